package io.taskmesh.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ZipkinSpanExporterTest {
  private final List<String> received = new CopyOnWriteArrayList<>();
  private HttpServer collector;

  @AfterEach
  void stop() {
    if (collector != null) {
      collector.stop(0);
    }
  }

  @Test
  void spansArriveAsZipkinV2JsonWithKindParentAndTags() throws IOException {
    collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext("/api/v2/spans", exchange -> {
      received.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    collector.start();
    OpenTelemetrySdk sdk = TracingSetup.create("task-service", "zipkin",
        "http://127.0.0.1:" + collector.getAddress().getPort(), 1.0);

    Span server = sdk.getTracer("test").spanBuilder("taskservice.TaskService/GetTask")
        .setSpanKind(SpanKind.SERVER).setAttribute("rpc.system", "grpc").startSpan();
    Span client = sdk.getTracer("test").spanBuilder("db \"query\"")
        .setParent(io.opentelemetry.context.Context.root().with(server)).setSpanKind(SpanKind.CLIENT).startSpan();
    client.setStatus(StatusCode.ERROR, "connection refused");
    client.end();
    server.end();
    assertThat(sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();

    String json = String.join("", received);
    String traceId = server.getSpanContext().getTraceId();
    assertThat(json).contains("\"traceId\":\"" + traceId + "\"")
        .contains("\"kind\":\"SERVER\"", "\"kind\":\"CLIENT\"")
        .contains("\"parentId\":\"" + server.getSpanContext().getSpanId() + "\"")
        .contains("\"name\":\"db \\\"query\\\"\"")
        .contains("\"serviceName\":\"task-service\"")
        .contains("\"rpc.system\":\"grpc\"")
        .contains("\"error\":\"connection refused\"");
    sdk.close();
  }

  @Test
  void aDeadCollectorDropsSpansWithoutBlockingTheCaller() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    OpenTelemetrySdk sdk = TracingSetup.create("task-service", "zipkin", "http://127.0.0.1:" + closedPort, 1.0);
    for (int i = 0; i < 10_000; i++) { // more than the queue holds: the excess is dropped, not waited for
      sdk.getTracer("test").spanBuilder("call").startSpan().end();
    }
    assertThat(sdk.getSdkTracerProvider().forceFlush().join(30, TimeUnit.SECONDS).isDone()).isTrue();
    sdk.close();

    SpanExporterProbe probe = new SpanExporterProbe();
    var export = new ZipkinSpanExporter(java.net.URI.create("http://127.0.0.1:" + closedPort + "/api/v2/spans"),
        java.time.Duration.ofSeconds(2)).export(probe.oneSpan());
    assertThat(export.join(30, TimeUnit.SECONDS).isSuccess()).isFalse();
  }

  @Test
  void anUnknownExporterIsRefusedByName() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TracingSetup.create("x", "jaeger", "http://x", 1.0))
        .hasMessageContaining("'jaeger'");
  }

  /** Records one real span so the exporter can be called directly. */
  private static final class SpanExporterProbe {
    List<io.opentelemetry.sdk.trace.data.SpanData> oneSpan() {
      var exporter = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
      var provider = io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
          .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(exporter)).build();
      provider.get("test").spanBuilder("call").startSpan().end();
      return exporter.getFinishedSpanItems();
    }
  }
}
