package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.SpanCollector;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An HTTP request that enters the gateway with a trace context leaves it, and reaches the app's sidecar, in that trace. */
class GatewayTracingTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN = "00f067aa0ba902b7";

  @Test
  void theCallersTraceContinuesThroughTheGatewayToTheAppsSidecar(@TempDir Path directory) throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      SpanCollector collector = mesh.closeLater(new SpanCollector());
      TaskServer app = mesh.closeLater(TaskServer.start(TaskServerOptions.defaults().withPort(0)
          .withBindAddress("127.0.0.1").withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")));
      String tracing = "tracing: {exporter: zipkin, endpoint: \"" + collector.endpoint() + "\"}\n";
      Sidecar serverSide = mesh.sidecar(MeshConfigParser.parse("""
          service: task-service
          inbound: {port: 0, appPort: %d}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(app.port()) + tracing));
      Sidecar gateway = mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(
          GatewayFixture.writeTaskDescriptorSet(directory), "{requestsPerMinute: 1000}", serverSide.inboundPort())
          + tracing));
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());

      int status = http.send(http.request("POST", "/api/tasks", "{\"title\": \"traced\", \"user_id\": 1}")
          .header("traceparent", "00-" + TRACE_ID + "-" + CALLER_SPAN + "-01")).statusCode();

      assertThat(status).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> collector.trace(TRACE_ID).size() >= 2);
      List<JsonNode> trace = collector.trace(TRACE_ID);
      JsonNode gatewayHop = trace.stream()
          .filter(span -> span.path("localEndpoint").path("serviceName").asText().equals("gateway"))
          .findFirst().orElseThrow();
      assertThat(gatewayHop.path("parentId").asText()).isEqualTo(CALLER_SPAN);
      assertThat(trace).extracting(span -> span.path("localEndpoint").path("serviceName").asText())
          .contains("gateway", "task-service");
    }
  }
}
