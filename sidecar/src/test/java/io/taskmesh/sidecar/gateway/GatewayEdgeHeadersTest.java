package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.PatienceBackend;
import io.taskmesh.sidecar.support.SpanCollector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an internet client may not say for the mesh: the proxy's own headers, and whether its requests are traced. */
class GatewayEdgeHeadersTest {
  private static final Metadata.Key<String> INTERNAL = Metadata.Key.of("taskmesh-internal", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> ERROR = Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> OTHER = Metadata.Key.of("x-tenant", Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void theProxysOwnHeadersFromOutsideNeverReachTheMesh() throws Exception {
    try (MeshFixture mesh = new MeshFixture(); PatienceBackend backend = new PatienceBackend("patience", 0)) {
      Sidecar gateway = mesh.sidecar(MeshConfigParser.parse("""
          service: gateway
          inbound: {port: 0, appPort: 1}
          outbound:
            port: 0
            discovery: {static: {patience: ["127.0.0.1:%d"]}}
          admin: {port: 0}
          gateway:
            port: 0
            routes: [{pathPrefix: /taskmesh.proxytest.Patience/, service: patience}]
          """.formatted(backend.port())));
      Metadata forged = new Metadata();
      forged.put(INTERNAL, "method-catalog");
      forged.put(ERROR, "hop=server-sidecar; target=x; reason=forged");
      forged.put(OTHER, "kept");
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.gatewayPort()).usePlaintext().build();
      try {
        PatienceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forged))
            .withDeadlineAfter(10, TimeUnit.SECONDS).wait(WaitRequest.getDefaultInstance());
      } finally {
        channel.shutdownNow();
      }
      assertThat(backend.lastHeader("x-tenant")).isEqualTo("kept");
      assertThat(backend.lastHeader("taskmesh-internal")).isNull();
      assertThat(backend.lastHeader("taskmesh-error")).isNull();
    }
  }

  @Test
  void aClientsSampledTraceHeaderDoesNotMakeTheMeshRecordItsRequest(@TempDir Path directory) throws Exception {
    String refusedTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    String meshTrace = "5bf92f3577b34da6a3ce929d0e0e4737";
    try (MeshFixture mesh = new MeshFixture()) {
      SpanCollector collector = mesh.closeLater(new SpanCollector());
      String tracing = "tracing: {exporter: zipkin, endpoint: \"" + collector.endpoint() + "\", samplingRatio: %s}\n";
      Sidecar serverSide = mesh.sidecar(MeshConfigParser.parse("""
          service: task-service
          inbound: {port: 0, appPort: %d}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(mesh.backend().port()) + tracing.formatted("1.0")));
      Sidecar gateway = mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(
          GatewayFixture.writeTaskDescriptorSet(directory), "{requestsPerMinute: 1000}", serverSide.inboundPort())
          + tracing.formatted("0.0")));

      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());
      assertThat(http.send(http.request("POST", "/api/tasks", "{\"title\": \"untraced\", \"user_id\": 4}")
          .header("traceparent", "00-" + refusedTrace + "-00f067aa0ba902b7-01")).statusCode()).isEqualTo(200);
      // inside the mesh the same header is honoured: the server sidecar records this one
      Metadata traced = new Metadata();
      traced.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-" + meshTrace + "-00f067aa0ba902b7-01");
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", serverSide.inboundPort()).usePlaintext().build();
      try {
        io.taskmesh.taskservice.api.TaskServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(traced)).withDeadlineAfter(10, TimeUnit.SECONDS)
            .listTasks(io.taskmesh.taskservice.api.ListTasksRequest.getDefaultInstance()).forEachRemaining(task -> { });
      } catch (io.grpc.StatusRuntimeException answered) {
        // an error answer is traced as well: only the span matters here
      } finally {
        channel.shutdownNow();
      }

      await().atMost(Duration.ofSeconds(30)).until(() -> !collector.trace(meshTrace).isEmpty());
      assertThat(collector.trace(refusedTrace)).isEmpty(); // exported by then, had it been sampled
    }
  }
}
