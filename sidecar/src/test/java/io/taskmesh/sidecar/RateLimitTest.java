package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server sidecar's token bucket, watched through real calls and its own /metrics. */
class RateLimitTest {

  @Test
  void aBurstAboveTheBucketIsRefusedForTheExcessOnlyAndTheMetricsAgree() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      TaskServer app = mesh.backend();
      TaskResponse task = mesh.directClient(app).create("limited", "", "", 12);
      // a bucket of 5 that refills once every 1,000 s: the burst decides everything in this test
      Sidecar server = mesh.sidecar(MeshConfigParser.parse("""
          service: %s
          inbound: {port: 0, appPort: %d, rateLimit: {requestsPerSecond: 0.001, burst: 5}}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(MeshFixture.SERVICE, app.port())));
      TaskClient client = mesh.clientThrough(mesh.clientSidecar("ROUND_ROBIN", server.inboundPort()));

      int succeeded = 0;
      List<StatusRuntimeException> refused = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        try {
          client.get(task.getId());
          succeeded++;
        } catch (StatusRuntimeException e) {
          refused.add(e);
        }
      }

      assertThat(succeeded).isEqualTo(5);
      assertThat(refused).hasSize(15).allSatisfy(e -> {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).startsWith("server-sidecar: service 'task-service': rate limited");
        assertThat(e.getTrailers().get(Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER)))
            .isNotNull();
        assertThat(e.getTrailers().get(Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER)))
            .contains("reason=rate_limited");
      });
      AdminClient admin = new AdminClient(server.adminPort());
      assertThat(admin.metricSum("taskmesh_rate_limited_total", "service=\"task-service\"")).isEqualTo(15.0);
      assertThat(admin.metricSum("taskmesh_requests_total", "code=\"RESOURCE_EXHAUSTED\"", "direction=\"inbound\""))
          .isEqualTo(15.0);
      assertThat(admin.metricSum("taskmesh_requests_total", "code=\"OK\"", "direction=\"inbound\"")).isEqualTo(5.0);
    }
  }
}
