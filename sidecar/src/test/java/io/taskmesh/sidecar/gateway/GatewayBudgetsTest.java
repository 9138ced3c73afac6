package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.overload.DirectMemory;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawH2Socket;
import io.taskmesh.sidecar.support.SlowBodyAttack;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's budgets under the attacks that broke it: many never-finished JSON bodies on one connection,
 * bodies that never end, a client's watches taking every permit. Each time the gateway stays up, its direct
 * memory stays within {@link #DIRECT_MEMORY_BOUND} of what it was, the budget's metric counts the refusals,
 * and a fresh well-behaved request is answered.
 */
class GatewayBudgetsTest {
  /** What one attack may add to the JVM's direct memory (pooled chunks included); unbounded it was 300 MB. */
  private static final long DIRECT_MEMORY_BOUND = 32L * 1024 * 1024;

  private final MeshFixture mesh = new MeshFixture();
  private Sidecar serverSide;
  private int serverInbound;
  private Path descriptors;

  @BeforeEach
  void startServerSide(@TempDir Path directory) {
    serverSide = mesh.serverSidecar(mesh.backend());
    serverInbound = serverSide.inboundPort();
    descriptors = GatewayFixture.writeTaskDescriptorSet(directory);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void neverFinishedBodiesOnManyStreamsOfOneConnectionAreRefusedOverTheConnectionsBuffer() {
    Sidecar gateway = gateway("{requestsPerMinute: 100000, maxConcurrentRequests: 1000}", "");
    long before = DirectMemory.used();
    try (SlowBodyAttack attack = new SlowBodyAttack(gateway.gatewayPort())) {
      attack.attack(300, "/api/tasks", 64 * 1024);
      // 1 MiB per connection (budgets.gateway.maxConnectionBufferBytes) holds 16 such bodies, of the 100 streams
      // SETTINGS allows; the rest are refused (streams sent before the client saw SETTINGS get RST_STREAM). The rest
      // of a refused body is still on its way and is ignored: the connection stays (it once got GOAWAY for it)
      await().atMost(Duration.ofSeconds(30)).until(() -> attack.answered() >= 100 - 16 || !attack.connected());
      assertThat(attack.connected()).as("the attacking connection, refused stream by stream").isTrue();
      assertThat(DirectMemory.used() - before).isLessThan(DIRECT_MEMORY_BOUND);
    }
    assertThat(metric(gateway, "taskmesh_listener_budget_exceeded_total", "budget=\"connection_buffer\"")).isPositive();
    assertThat(metric(gateway, "taskmesh_listener_budget_exceeded_total", "budget=\"http2_abuse\"")).isZero();
    assertStillServing(gateway);
  }

  /**
   * The gateway resets a refused request's stream; what the client had sent on it before the reset reached it
   * arrives after, and is ignored. Netty answered each such frame with RST_STREAM(STREAM_CLOSED) and counted those
   * against its 200 resets a server may send in 30 s: the client's connection was closed with ENHANCE_YOUR_CALM.
   */
  @Test
  void whatARefusedBodyHadOnTheWayIsIgnoredAndTheConnectionStays() throws Exception {
    Sidecar gateway = gateway("{requestsPerMinute: 100000, maxConcurrentRequests: 1000}", "  maxRequestBodyBytes: 100\n");
    try (RawH2Socket raw = new RawH2Socket(gateway.gatewayPort()).preface()) {
      int stream = 1;
      for (int batch = 0; batch < 3; batch++) { // 150 refused bodies with two late frames each: 300 frames
        List<Integer> refused = new ArrayList<>();
        for (int i = 0; i < 50; i++, stream += 2) {
          raw.jsonPost(stream, "gateway", "/api/tasks").data(stream, 200, false); // over the limit: 413, then reset
          refused.add(stream);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> raw.received().stream()
            .filter(frame -> frame.type() == RawH2Socket.RST_STREAM).map(RawH2Socket.Frame::streamId).toList()
            .containsAll(refused));
        for (int id : refused) {
          raw.data(id, 10, false).data(id, 10, false);
        }
      }
      raw.ping();
      await().atMost(Duration.ofSeconds(30)).until(() -> raw.receivedFrame(RawH2Socket.PING) || raw.closedWithin(0));
      assertThat(raw.receivedFrame(RawH2Socket.GOAWAY)).as("GOAWAY").isFalse();
      assertThat(raw.receivedFrame(RawH2Socket.RST_STREAM, 5)).as("RST_STREAM(STREAM_CLOSED)").isFalse();
    }
    assertThat(metric(gateway, "taskmesh_listener_budget_exceeded_total", "budget=\"http2_abuse\"")).isZero();
    assertStillServing(gateway);
  }

  @Test
  void theClientsTokenIsSpentWhenHeadersArriveNotWhenTheBodyIsComplete() {
    Sidecar gateway = gateway("{requestsPerMinute: 3}", "");
    try (SlowBodyAttack attack = new SlowBodyAttack(gateway.gatewayPort())) {
      attack.attack(10, "/api/tasks", 100); // no body ever ends: only headers can have been charged
      await().atMost(Duration.ofSeconds(30)).until(() -> attack.answered() == 7);
    }
    assertThat(metric(gateway, "taskmesh_rate_limited_total", "service=\"task-service\"")).isEqualTo(7.0);
  }

  @Test
  void aBodyThatDoesNotEndWithinTheBodyTimeoutGets408() {
    Sidecar gateway = gateway("{requestsPerMinute: 100}", "  requestBodyTimeout: 300ms\n");
    try (SlowBodyAttack attack = new SlowBodyAttack(gateway.gatewayPort())) {
      attack.attack(3, "/api/tasks", 100);
      await().atMost(Duration.ofSeconds(30)).until(() -> attack.answered() == 3);
    }
    assertThat(metric(gateway, "taskmesh_listener_budget_exceeded_total", "budget=\"request_body_timeout\""))
        .isEqualTo(3.0);
    assertStillServing(gateway);
  }

  @Test
  void watchesCountAgainstTheClientsStreamCapNotThePermitsOfItsUnaryCalls() throws Exception {
    Sidecar gateway = gateway("{requestsPerMinute: 100, maxConcurrentRequests: 3, maxConcurrentStreams: 3}", "");
    HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());
    List<CompletableFuture<HttpResponse<Stream<String>>>> watches = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      watches.add(http.stream(http.request("GET", "/api/tasks:watch?user_id=4", null).header("accept", "text/event-stream")));
    }
    await().atMost(Duration.ofSeconds(30)).until(() ->
        metric(serverSide, "taskmesh_inbound_requests_active", "") >= 3); // the three watches reached the app

    for (int i = 0; i < 5; i++) {
      assertThat(http.send("GET", "/api/tasks/999999", null).statusCode()).isEqualTo(404); // answered, not 429
    }
    HttpResponse<String> fourthWatch = http.send(http.request("GET", "/api/tasks:watch?user_id=4", null)
        .header("accept", "text/event-stream"));
    assertThat(fourthWatch.statusCode()).isEqualTo(429);
    assertThat(fourthWatch.headers().firstValue("taskmesh-error")).hasValueSatisfying(
        value -> assertThat(value).contains("reason=client_streams"));
    watches.forEach(watch -> watch.cancel(true));
  }

  private Sidecar gateway(String clientRateLimit, String gatewayExtra) {
    String yaml = GatewayFixture.yaml(descriptors, clientRateLimit, serverInbound) + gatewayExtra;
    return mesh.sidecar(MeshConfigParser.parse(yaml));
  }

  private static double metric(Sidecar proxy, String name, String label) {
    return new AdminClient(proxy.adminPort()).metricSum(name, label);
  }

  private static void assertStillServing(Sidecar gateway) {
    HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());
    HttpResponse<String> created = http.send("POST", "/api/tasks", "{\"title\": \"fresh\", \"user_id\": 4}");
    assertThat(created.statusCode()).isEqualTo(200);
  }
}
