package io.taskmesh.sidecar.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code taskmesh_endpoints{service,state}}: active and draining endpoints of each cluster, registered when
 * discovery creates the cluster and removed with it, so a service the sidecar stopped calling leaves no series.
 */
public final class ClusterGauges {
  private final MeterRegistry registry;
  private final Map<String, List<Meter>> byService = new ConcurrentHashMap<>();

  public ClusterGauges(MeterRegistry registry) {
    this.registry = registry;
  }

  public void created(Cluster cluster) {
    List<Meter> gauges = new ArrayList<>();
    for (Endpoint.State state : Endpoint.State.values()) {
      gauges.add(Gauge.builder("taskmesh.endpoints", cluster,
              c -> c.endpoints().stream().filter(endpoint -> endpoint.state() == state).count())
          .tag("service", cluster.service())
          .tag("state", state.name().toLowerCase(Locale.ROOT))
          .register(registry));
    }
    byService.put(cluster.service(), gauges);
  }

  public void removed(Cluster cluster) {
    List<Meter> gauges = byService.remove(cluster.service());
    if (gauges != null) {
      gauges.forEach(registry::remove);
    }
  }
}
