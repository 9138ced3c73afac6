package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.SpanCollector;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import io.taskmesh.sidecar.support.PatienceBackend;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * client → client sidecar → server sidecar → app, both sidecars exporting spans to one collector: one
 * trace id across the spans, each the parent of the next, and the app receives the server sidecar's span
 * as its parent, whatever form the caller's context had. (The app's own span, from the OpenTelemetry
 * javaagent, is checked end to end with a real Zipkin server in the e2e LocalMeshTest.)
 */
class TracingTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN = "00f067aa0ba902b7";

  private final MeshFixture mesh = new MeshFixture();
  private SpanCollector collector;
  private Sidecar clientSide;
  private PatienceBackend app;

  @BeforeEach
  void startMesh() {
    collector = mesh.closeLater(new SpanCollector());
    app = mesh.closeLater(new PatienceBackend("app", 0));
    Sidecar serverSide = mesh.sidecar(MeshConfigParser.parse("""
        service: patience
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        tracing: {exporter: zipkin, endpoint: "%s"}
        """.formatted(app.port(), collector.endpoint())));
    clientSide = mesh.sidecar(MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {static: {patience: ["127.0.0.1:%d"]}}
        admin: {port: 0}
        tracing: {exporter: zipkin, endpoint: "%s", propagators: [tracecontext, baggage, b3]}
        """.formatted(serverSide.inboundPort(), collector.endpoint())));
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aW3cTraceContextIsContinuedByBothSidecarsAndReachesTheApp() {
    callWith(Map.of("traceparent", "00-" + TRACE_ID + "-" + CALLER_SPAN + "-01"));

    List<JsonNode> trace = awaitSpans(TRACE_ID, 2);
    JsonNode clientHop = only(trace, "caller", "CLIENT");
    JsonNode serverHop = only(trace, "patience", "SERVER");
    assertThat(clientHop.path("parentId").asText()).isEqualTo(CALLER_SPAN);
    assertThat(serverHop.path("parentId").asText()).isEqualTo(clientHop.path("id").asText());
    assertThat(app.lastHeader("traceparent"))
        .isEqualTo("00-" + TRACE_ID + "-" + serverHop.path("id").asText() + "-01");
    for (JsonNode span : trace) {
      assertThat(span.path("name").asText()).isEqualToIgnoringCase("taskmesh.proxytest.Patience/Wait");
      assertThat(span.path("tags").path("rpc.system").asText()).isEqualTo("grpc");
      assertThat(span.path("tags").path("rpc.service").asText()).isEqualTo("taskmesh.proxytest.Patience");
      assertThat(span.path("tags").path("rpc.method").asText()).isEqualTo("Wait");
      assertThat(span.path("tags").path("rpc.grpc.status_code").asText()).isEqualTo("0");
    }
    assertThat(clientHop.path("tags").path("net.peer.port").asInt()).isPositive();
  }

  @Test
  void aB3SingleHeaderIsReadAndTheTraceLeavesAsW3c() {
    callWith(Map.of("b3", TRACE_ID + "-" + CALLER_SPAN + "-1"));

    List<JsonNode> trace = awaitSpans(TRACE_ID, 2);
    assertThat(only(trace, "caller", "CLIENT").path("parentId").asText()).isEqualTo(CALLER_SPAN);
    assertThat(app.lastHeader("traceparent")).startsWith("00-" + TRACE_ID + "-");
    assertThat(app.lastHeader("b3")).as("B3 is read, not passed on").isNull();
  }

  @Test
  void b3MultiHeadersAreRead() {
    callWith(Map.of("x-b3-traceid", TRACE_ID, "x-b3-spanid", CALLER_SPAN, "x-b3-sampled", "1"));

    List<JsonNode> trace = awaitSpans(TRACE_ID, 2);
    assertThat(only(trace, "caller", "CLIENT").path("parentId").asText()).isEqualTo(CALLER_SPAN);
    assertThat(app.lastHeader("traceparent")).startsWith("00-" + TRACE_ID + "-");
    assertThat(app.lastHeader("b3")).as("B3 is read, not passed on").isNull();
  }

  @Test
  void aCallWithoutContextStartsOneTraceAcrossAllHops() {
    callWith(Map.of());

    await().atMost(Duration.ofSeconds(30)).until(() -> collector.all().size() >= 2);
    String traceId = collector.all().get(0).path("traceId").asText();
    assertThat(app.lastHeader("traceparent")).contains(traceId);
    assertThat(collector.all()).hasSize(2).allSatisfy(span -> assertThat(span.path("traceId").asText()).isEqualTo(traceId));
  }

  private void callWith(Map<String, String> headers) {
    Metadata metadata = new Metadata();
    headers.forEach((name, value) -> metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientSide.outboundPort())
        .overrideAuthority("patience").usePlaintext().build();
    try {
      PatienceGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .wait(WaitRequest.getDefaultInstance());
    } finally {
      channel.shutdownNow();
    }
  }

  private List<JsonNode> awaitSpans(String traceId, int count) {
    await().atMost(Duration.ofSeconds(30)).until(() -> collector.trace(traceId).size() >= count);
    List<JsonNode> trace = collector.trace(traceId);
    assertThat(trace).hasSize(count);
    return trace;
  }

  private static JsonNode only(List<JsonNode> trace, String serviceName, String kind) {
    return span(trace, span -> span.path("localEndpoint").path("serviceName").asText().equals(serviceName)
        && span.path("kind").asText().equals(kind));
  }

  private static JsonNode span(List<JsonNode> trace, java.util.function.Predicate<JsonNode> which) {
    List<JsonNode> matching = trace.stream().filter(which).toList();
    assertThat(matching).as("spans matching in %s", trace).hasSize(1);
    return matching.get(0);
  }
}
