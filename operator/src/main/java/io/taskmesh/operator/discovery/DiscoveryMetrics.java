package io.taskmesh.operator.discovery;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The discovery server's counters: {@code taskmesh_discovery_refused_total{reason}} (a request or stream over a
 * cap) and {@code taskmesh_discovery_sets_built_total} (EndpointSet messages built for a change, each shared by
 * every subscriber that names the service the same way).
 */
public final class DiscoveryMetrics {
  private final MeterRegistry registry;
  private final Counter built;

  public DiscoveryMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.built = Counter.builder("taskmesh.discovery.sets.built")
        .description("EndpointSet messages built for endpoint changes, each shared by its subscribers")
        .register(registry);
  }

  /** Counts a refusal under {@code reason} (the cap's name) and returns the status to close the call with. */
  Status refuse(String reason, Status status) {
    Counter.builder("taskmesh.discovery.refused").tag("reason", reason)
        .description("Discovery requests and streams refused for going over a cap")
        .register(registry).increment();
    return status;
  }

  void built() {
    built.increment();
  }
}
