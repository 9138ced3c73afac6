package io.taskmesh.sidecar.concrete;

import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * The backends of one route and the choice among them, made once per request: by weight, so over many
 * requests each backend gets its share. A route with one backend always gets it.
 */
public final class Backends {
  private final List<Backend> backends;
  private final int totalWeight;

  private Backends(List<Backend> backends) {
    this.backends = List.copyOf(backends);
    int sum = 0;
    for (Backend backend : this.backends) { // a loop, not a stream: made per request for discovered routes
      sum += backend.weight();
    }
    this.totalWeight = sum;
    if (this.backends.isEmpty() || totalWeight <= 0) {
      throw new IllegalArgumentException("a route needs at least one backend with a weight above 0, got " + backends);
    }
  }

  public static Backends of(List<Backend> backends) {
    return new Backends(backends);
  }

  public static Backends single(Backend backend) {
    return new Backends(List.of(backend));
  }

  public List<Backend> all() {
    return backends;
  }

  /** A backend by weight, with {@code random} giving a number in [0, bound). */
  public Backend choose(IntUnaryOperator random) {
    if (backends.size() == 1) {
      return backends.get(0);
    }
    int ticket = random.applyAsInt(totalWeight);
    for (Backend backend : backends) {
      ticket -= backend.weight();
      if (ticket < 0) {
        return backend;
      }
    }
    throw new IllegalStateException("unreachable: the weights add up to " + totalWeight);
  }
}
