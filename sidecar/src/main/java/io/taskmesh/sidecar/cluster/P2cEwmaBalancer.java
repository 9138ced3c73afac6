package io.taskmesh.sidecar.cluster;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices: pick two endpoints at random and send to the one with the lower cost, where
 * cost is (outstanding requests + 1) times its latency moving average. Cheap, and it steers away from
 * slow or busy endpoints without herding onto one.
 */
public final class P2cEwmaBalancer implements LoadBalancer {
  @Override
  public Endpoint choose(List<Endpoint> active) {
    int size = active.size();
    if (size == 1) {
      return active.get(0);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int first = random.nextInt(size);
    int second = random.nextInt(size - 1);
    if (second >= first) {
      second++;
    }
    Endpoint a = active.get(first);
    Endpoint b = active.get(second);
    return cost(a) <= cost(b) ? a : b;
  }

  private static double cost(Endpoint endpoint) {
    return (endpoint.outstanding() + 1) * endpoint.ewmaLatencyNanos();
  }
}
