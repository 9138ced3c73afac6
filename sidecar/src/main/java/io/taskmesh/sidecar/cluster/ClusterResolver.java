package io.taskmesh.sidecar.cluster;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Finds the cluster that serves a service. A resolver that knows the answer gives it at once, on the
 * caller's thread; one that must ask discovery first (on-demand discovery) gives it later, on any thread.
 */
@FunctionalInterface
public interface ClusterResolver {
  /** Calls {@code then} once with the service's cluster, or empty when no cluster serves it. */
  void resolve(String service, Consumer<Optional<Cluster>> then);

  /** Always {@code cluster}, whatever the service. */
  static ClusterResolver of(Cluster cluster) {
    Optional<Cluster> known = Optional.of(cluster);
    return (service, then) -> then.accept(known);
  }
}
