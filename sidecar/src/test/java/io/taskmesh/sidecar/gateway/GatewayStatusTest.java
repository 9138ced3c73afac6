package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway port's own GET /health and GET /metrics (JSON), next to the routes it serves. */
class GatewayStatusTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void healthAndMetricsAnswerOnTheGatewayPortWithEachRoutedServicesInstancesFromDiscovery() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar first = mesh.serverSidecar(mesh.backend());
      Sidecar second = mesh.serverSidecar(mesh.backend());
      Sidecar gateway = mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(null, "{requestsPerMinute: 1}", "{}",
          List.of("{pathPrefix: /api/billing, service: billing, transcode: true}"),
          first.inboundPort(), second.inboundPort())));
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());
      Instant before = Instant.now();

      HttpResponse<String> health = http.send("GET", "/health", null);
      HttpResponse<String> metrics = http.send("GET", "/metrics", null);

      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.headers().firstValue("content-type")).hasValue("application/json");
      JsonNode healthBody = JSON.readTree(health.body());
      assertThat(fieldNames(healthBody)).containsExactly("status", "timestamp");
      assertThat(healthBody.get("status").asText()).isEqualTo("healthy");
      assertThat(healthBody.get("timestamp").asText()).as("ISO-8601 UTC, milliseconds")
          .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
      assertThat(Instant.parse(healthBody.get("timestamp").asText()))
          .isBetween(before.minusSeconds(1), Instant.now().plusSeconds(1));

      assertThat(metrics.statusCode()).isEqualTo(200);
      JsonNode metricsBody = JSON.readTree(metrics.body());
      assertThat(fieldNames(metricsBody)).containsExactly("gateway", "services", "timestamp");
      assertThat(metricsBody.get("gateway").asText()).isEqualTo("healthy");
      Instant.parse(metricsBody.get("timestamp").asText());
      assertThat(fieldNames(metricsBody.get("services"))).containsExactlyInAnyOrder(MeshFixture.SERVICE, "billing");
      JsonNode tasks = metricsBody.at("/services/" + MeshFixture.SERVICE);
      assertThat(tasks.get("healthy").asBoolean()).isTrue();
      assertThat(tasks.get("instances").asInt()).isEqualTo(2);
      assertThat(tasks.get("healthyInstances").asInt()).isEqualTo(2);
      JsonNode billing = metricsBody.at("/services/billing");
      assertThat(billing.get("healthy").asBoolean()).as("discovery knows no billing instance").isFalse();
      assertThat(billing.get("instances").asInt()).isZero();

      for (int i = 0; i < 3; i++) {
        assertThat(http.send("GET", "/health", null).statusCode()).as("/health is not rate limited").isEqualTo(200);
      }
      assertThat(http.send("GET", "/api/tasks/1", null).statusCode()).as("a routed request is").isIn(404, 429);
      assertThat(http.send("GET", "/api/tasks/1", null).statusCode()).isEqualTo(429);
      assertThat(new AdminClient(gateway.adminPort()).get("/metrics").body())
          .as("the admin port keeps the Prometheus metrics").contains("taskmesh_requests_total");
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new java.util.ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
