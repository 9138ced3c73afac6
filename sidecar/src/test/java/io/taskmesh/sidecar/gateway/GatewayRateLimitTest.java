package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.client.TaskClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-client token bucket at the gateway, seen through real HTTP and gRPC calls. */
class GatewayRateLimitTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aClientOverItsLimitGets429WithRetryAfterForTheExcessOnlyWhileAnotherClientDoesNot(@TempDir Path directory)
      throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar serverSide = mesh.serverSidecar(mesh.backend());
      // 2 per minute: a token comes back every 30 s, far longer than this test's few requests take
      Sidecar gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
          "{requestsPerMinute: 2, trustForwardedFor: true}", serverSide.inboundPort());
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());

      List<HttpResponse<String>> fromA = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fromA.add(http.send(http.request("GET", "/api/tasks/999999", null).header("x-forwarded-for", "203.0.113.7")));
      }
      HttpResponse<String> fromB = http.send(http.request("GET", "/api/tasks/999999", null)
          .header("x-forwarded-for", "10.0.0.1, 198.51.100.2"));

      assertThat(fromA.subList(0, 2)).allSatisfy(response -> assertThat(response.statusCode()).isEqualTo(404));
      assertThat(fromA.subList(2, 4)).allSatisfy(response -> {
        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.headers().firstValue("retry-after").map(Integer::parseInt)).hasValueSatisfying(
            seconds -> assertThat(seconds).isBetween(1, 60));
        JsonNode body = readTree(response.body());
        assertThat(body.get("code").asText()).isEqualTo("RESOURCE_EXHAUSTED");
        assertThat(body.get("message").asText()).contains("203.0.113.7");
        assertThat(body.get("error").asText()).isEqualTo("too many requests");
        assertThat(body.get("retryAfter").isIntegralNumber()).as("retryAfter is a number of seconds").isTrue();
        assertThat(body.get("retryAfter").asLong())
            .isEqualTo(Long.parseLong(response.headers().firstValue("retry-after").orElseThrow()));
      });
      assertThat(fromB.statusCode()).isEqualTo(404);
      assertThat(new AdminClient(gateway.adminPort()).metricSum("taskmesh_rate_limited_total",
          "service=\"task-service\"")).isEqualTo(2.0);
    }
  }

  @Test
  void aGrpcCallerOverItsLimitGetsResourceExhausted() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar serverSide = mesh.serverSidecar(mesh.backend());
      Sidecar gateway = GatewayFixture.gateway(mesh, null, "{requestsPerMinute: 1}", serverSide.inboundPort());
      TaskClient grpc = mesh.closeLater(TaskClient.connect("127.0.0.1:" + gateway.gatewayPort(), "gw",
          Duration.ofSeconds(10)));
      assertThat(grpc.create("allowed", "", "low", 14).getTitle()).isEqualTo("allowed");
      assertThatThrownBy(() -> grpc.create("refused", "", "low", 14))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).startsWith("gateway: client 127.0.0.1: rate limited");
          });
    }
  }

  @Test
  void clientsRotatingAddressesCannotGrowTheTablePastItsBound() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar serverSide = mesh.serverSidecar(mesh.backend());
      Sidecar gateway = GatewayFixture.gateway(mesh, null,
          "{requestsPerMinute: 10, maxTrackedClients: 20, trustForwardedFor: true}", serverSide.inboundPort());
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());
      for (int i = 0; i < 100; i++) {
        http.send(http.request("GET", "/api/tasks/999999", null).header("x-forwarded-for", "192.0.2." + i));
        assertThat(gateway.gateway().trackedClients()).isLessThanOrEqualTo(20);
      }
      assertThat(gateway.gateway().trackedClients()).isEqualTo(20);
    }
  }

  private static JsonNode readTree(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
