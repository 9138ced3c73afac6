package io.taskmesh.sidecar.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.taskmesh.config.GatewayRoute;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.cluster.Endpoint;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * The gateway's own answers on its port, for load balancers and dashboards that speak to it directly:
 * {@code GET /health} (the gateway is up) and {@code GET /metrics} (each routed service and how many
 * instances discovery knows for it). Prometheus metrics stay on the admin port.
 */
final class GatewayStatus {
  static final String HEALTH_PATH = "/health";
  static final String METRICS_PATH = "/metrics";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final DateTimeFormatter ISO_UTC_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final GatewayRoutes routes;
  private final ClusterManager clusters;
  private final Clock clock;

  GatewayStatus(GatewayRoutes routes, ClusterManager clusters, Clock clock) {
    this.routes = routes;
    this.clusters = clusters;
    this.clock = clock;
  }

  static boolean answers(String httpMethod, String path) {
    return "GET".equals(httpMethod) && (HEALTH_PATH.equals(path) || METRICS_PATH.equals(path));
  }

  /** The body for {@link #HEALTH_PATH} or {@link #METRICS_PATH}. */
  String json(String path) {
    return HEALTH_PATH.equals(path) ? healthJson() : metricsJson();
  }

  /** {@code {"status":"healthy","timestamp":"2026-12-01T08:00:00.123Z"}} */
  String healthJson() {
    return MAPPER.createObjectNode()
        .put("status", "healthy")
        .put("timestamp", now())
        .toString();
  }

  /**
   * {@code {"gateway":"healthy","services":{"task-service":{"healthy":true,"instances":2,"healthyInstances":2}},
   * "timestamp":...}}: {@code instances} are the endpoints discovery lists for the service's cluster,
   * {@code healthyInstances} those of them the gateway would send a request to now.
   */
  String metricsJson() {
    ObjectNode body = MAPPER.createObjectNode().put("gateway", "healthy");
    ObjectNode services = body.putObject("services");
    for (GatewayRoute route : routes.all()) {
      if (services.has(route.service())) {
        continue;
      }
      Optional<Cluster> cluster = clusters.cluster(routes.clusterOf(route.service()));
      long healthy = cluster.map(GatewayStatus::healthyEndpoints).orElse(0L);
      services.putObject(route.service())
          .put("healthy", healthy > 0)
          .put("instances", cluster.map(c -> c.endpoints().size()).orElse(0))
          .put("healthyInstances", healthy);
    }
    body.put("timestamp", now());
    return body.toString();
  }

  private String now() {
    return ISO_UTC_MILLIS.format(clock.instant());
  }

  /** Endpoints that are active and not ejected by outlier detection. */
  static long healthyEndpoints(Cluster cluster) {
    return cluster.endpoints().stream()
        .filter(endpoint -> endpoint.state() == Endpoint.State.ACTIVE && !cluster.isEjected(endpoint))
        .count();
  }
}
