package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.overload.DirectMemory;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.client.TaskClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Direct memory pushed over the overload threshold (by buffers this test holds, as a flood would): new streams
 * are refused with RESOURCE_EXHAUSTED / 503 and {@code reason=overloaded}, counted; once the memory is given
 * back, calls are answered again.
 */
class OverloadTest {
  private static final long CHUNK = 16L * 1024 * 1024;

  @Test
  void newStreamsAreRefusedWhileDirectMemoryIsOverItsThresholdAndServedAgainAfter() throws Exception {
    long max = DirectMemory.max();
    int percent = (int) Math.min(99, (DirectMemory.used() + 4 * CHUNK) * 100 / max + 1);
    String overload = "overload: {maxDirectMemoryPercent: " + percent + ", sampleInterval: 50ms}\n";
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar serverSide = mesh.serverSidecar(mesh.backend());
      Sidecar clientSide = mesh.sidecar(MeshConfigParser.parse(
          MeshFixture.clientConfigYaml("ROUND_ROBIN", serverSide.inboundPort()) + overload));
      Sidecar gateway = mesh.sidecar(MeshConfigParser.parse(
          GatewayFixture.yaml(null, "{requestsPerMinute: 1000}", serverSide.inboundPort()) + overload));
      TaskClient client = mesh.clientThrough(clientSide);
      assertThat(client.create("before", "", "low", 4).getTitle()).isEqualTo("before");

      List<ByteBuf> pressure = new ArrayList<>();
      try {
        while (DirectMemory.used() * 100 <= (long) percent * max && pressure.size() < 1024) {
          pressure.add(Unpooled.directBuffer((int) CHUNK).writeZero((int) CHUNK));
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
          StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
              () -> client.create("during", "", "low", 4));
          assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(refused.getStatus().getDescription()).contains("client-sidecar").contains("direct memory");
          assertThat(refused.getTrailers().get(Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER)))
              .contains("reason=overloaded");
        });
        HttpResponse<String> http = new HttpJsonClient(gateway.gatewayPort()).send("GET", "/api/tasks/x", null);
        assertThat(http.statusCode()).isEqualTo(503);
        assertThat(http.headers().firstValue("taskmesh-error")).hasValueSatisfying(
            value -> assertThat(value).contains("reason=overloaded"));
        assertThat(new AdminClient(clientSide.adminPort()).metricSum("taskmesh_overload_refused_total",
            "listener=\"outbound\"")).isPositive();
        assertThat(new AdminClient(clientSide.adminPort()).metricSum("taskmesh_overload_active")).isEqualTo(1.0);
      } finally {
        pressure.forEach(ByteBuf::release);
      }
      await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() ->
          assertThat(client.create("after", "", "low", 4).getTitle()).isEqualTo("after"));
    }
  }
}
