package io.taskmesh.sidecar.concrete;

import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One backend a route sends to: a service (its cluster balances over its endpoints) and the share of the
 * route's requests it gets.
 *
 * @param weight relative to the route's other backends; 0 gets no request
 */
public record Backend(String service, int weight, ClusterResolver clusters) {
  public Backend {
    if (weight < 0) {
      throw new IllegalArgumentException("backend " + service + ": weight must be 0 or more, got " + weight);
    }
  }

  /** The backend's cluster, now or once discovery knows it (see {@link ClusterResolver}). */
  public void resolve(Consumer<Optional<Cluster>> then) {
    clusters.resolve(service, then);
  }
}
