package io.taskmesh.sidecar.cluster;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Each request to the next endpoint in turn. */
public final class RoundRobinBalancer implements LoadBalancer {
  private final AtomicInteger next = new AtomicInteger();

  @Override
  public Endpoint choose(List<Endpoint> active) {
    return active.get(Math.floorMod(next.getAndIncrement(), active.size()));
  }
}
