package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.BogusCalls;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reloaded config file changes the rate limit and circuit breakers that real calls meet. */
class PolicyReloadTest {
  private static final TaskSubscriptionRequest WATCH = TaskSubscriptionRequest.newBuilder().setUserId(9).build();
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aReloadChangesRemovesAndAddsTheInboundRateLimit(@TempDir Path dir) throws Exception {
    TaskServer app = mesh.backend();
    TaskResponse task = mesh.directClient(app).create("limited", "", "", 9);
    Path file = dir.resolve("proxy.yaml");
    // buckets refill once every 1,000 s: only the burst decides what passes
    String burstOf2 = serverConfig(app, "rateLimit: {requestsPerSecond: 0.001, burst: 2}");
    Files.writeString(file, burstOf2);
    Sidecar server = mesh.sidecar(MeshConfigParser.load(file));
    mesh.closeLater(server.watchConfig(file, burstOf2, Duration.ofMillis(100)));
    TaskClient client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + server.inboundPort()));
    AdminClient admin = new AdminClient(server.adminPort());

    assertThat(callsPassedOf(client, task, 10)).isEqualTo(2);

    reload(file, serverConfig(app, "rateLimit: {requestsPerSecond: 0.001, burst: 5}"), admin, 1);
    assertThat(callsPassedOf(client, task, 10)).as("a new, full bucket of 5").isEqualTo(5);

    reload(file, serverConfig(app, ""), admin, 2);
    assertThat(callsPassedOf(client, task, 20)).as("no rate limit").isEqualTo(20);

    reload(file, serverConfig(app, "rateLimit: {requestsPerSecond: 0.001, burst: 1}"), admin, 3);
    assertThat(callsPassedOf(client, task, 10)).isEqualTo(1);
    assertThat(admin.metricSum("taskmesh_rate_limited_total", "service=\"task-service\"")).isEqualTo(8 + 5 + 9);
  }

  @Test
  void aReloadedBulkheadLimitCountsTheRequestsAlreadyInFlight(@TempDir Path dir) throws Exception {
    TaskServer app = mesh.backend();
    Path file = dir.resolve("proxy.yaml");
    String oneAtATime = serverConfig(app, "maxConcurrentStreamingRequests: 1");
    Files.writeString(file, oneAtATime);
    Sidecar server = mesh.sidecar(MeshConfigParser.load(file));
    mesh.closeLater(server.watchConfig(file, oneAtATime, Duration.ofMillis(100)));
    TaskClient client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + server.inboundPort()));
    AdminClient admin = new AdminClient(server.adminPort());
    BogusCalls.awaitAppMethodsLearnt(server.inboundPort(), admin);
    TaskClient.Subscription first = client.subscribe(WATCH, e -> { }, s -> { });
    await().atMost(Duration.ofSeconds(30)).until(() -> app.subscriberCount() == 1);
    assertThat(aNewWatchIsRefused(client, app)).isTrue();

    reload(file, serverConfig(app, "maxConcurrentStreamingRequests: 2"), admin, 1);
    TaskClient.Subscription second = client.subscribe(WATCH, e -> { }, s -> { });
    await().atMost(Duration.ofSeconds(30)).until(() -> app.subscriberCount() == 2);
    assertThat(aNewWatchIsRefused(client, app)).as("the watch from before the reload counts").isTrue();

    reload(file, serverConfig(app, "maxConcurrentStreamingRequests: 1"), admin, 2);
    first.cancel();
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.metricSum("taskmesh_inbound_requests_active") == 1.0);
    assertThat(aNewWatchIsRefused(client, app)).as("one watch still open, limit 1").isTrue();
    second.cancel();
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.metricSum("taskmesh_inbound_requests_active") == 0.0);
    assertThat(aNewWatchIsRefused(client, app)).isFalse();
  }

  /** Opens a watch: true when the bulkhead refused it, false when the app got it (it is then closed again). */
  private static boolean aNewWatchIsRefused(TaskClient client, TaskServer app) {
    int before = app.subscriberCount();
    AtomicReference<Status> end = new AtomicReference<>();
    TaskClient.Subscription watch = client.subscribe(WATCH, e -> { }, end::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> end.get() != null || app.subscriberCount() > before);
    if (end.get() == null) {
      watch.cancel();
      await().atMost(Duration.ofSeconds(30)).until(() -> app.subscriberCount() == before);
      return false;
    }
    assertThat(end.get().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(end.get().getDescription()).contains("too many concurrent streaming requests");
    return true;
  }

  @Test
  void aChangedCircuitBreakerPolicyGivesTheServiceANewClosedBreaker(@TempDir Path dir) throws Exception {
    TaskServerOptions appOptions = TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:mem:reload-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    TaskServer app = TaskServer.start(appOptions);
    int appPort = app.port();
    try {
      Sidecar server = mesh.sidecar(MeshConfigParser.parse(serverConfig(app, "")));
      Path file = dir.resolve("caller.yaml");
      String waitAnHour = callerConfig(server.inboundPort(), "1h");
      Files.writeString(file, waitAnHour);
      Sidecar caller = mesh.sidecar(MeshConfigParser.load(file));
      mesh.closeLater(caller.watchConfig(file, waitAnHour, Duration.ofMillis(100)));
      TaskClient client = mesh.clientThrough(caller);
      AdminClient admin = new AdminClient(caller.adminPort());
      TaskResponse task = client.create("keep me", "", "", 10);

      app.close();
      for (int i = 0; i < 4; i++) {
        assertThat(failure(client, task).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      }
      app = TaskServer.start(appOptions.withPort(appPort));
      assertThat(failure(client, task).getStatus().getDescription())
          .as("open for an hour although the service is back").contains("circuit open");
      assertThat(breakerState(admin)).isEqualTo(1.0);

      reload(file, callerConfig(server.inboundPort(), "59m"), admin, 1);
      assertThat(client.get(task.getId())).isEqualTo(task);
      assertThat(breakerState(admin)).isEqualTo(0.0);
    } finally {
      app.close();
    }
  }

  private static String serverConfig(TaskServer app, String inboundExtra) {
    return """
        service: %s
        inbound: {port: 0, appPort: %d%s}
        outbound: {port: 0}
        admin: {port: 0}
        """.formatted(MeshFixture.SERVICE, app.port(), inboundExtra.isEmpty() ? "" : ", " + inboundExtra);
  }

  private static String callerConfig(int serverInboundPort, String waitInOpen) {
    return """
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {static: {%s: ["127.0.0.1:%d"]}}
          defaults:
            circuitBreaker: {failureRateThreshold: 50, minimumCalls: 4, slidingWindow: 4, waitInOpen: %s}
        admin: {port: 0}
        """.formatted(MeshFixture.SERVICE, serverInboundPort, waitInOpen);
  }

  private static void reload(Path file, String content, AdminClient admin, int acceptedSoFar) throws Exception {
    Files.writeString(file, content);
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.metricSum("taskmesh_config_reloads_total",
        "result=\"accepted\"") == acceptedSoFar);
  }

  private static int callsPassedOf(TaskClient client, TaskResponse task, int calls) {
    int passed = 0;
    for (int i = 0; i < calls; i++) {
      try {
        client.get(task.getId());
        passed++;
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).containsAnyOf("rate limited", "too many concurrent requests");
      }
    }
    return passed;
  }

  private static double breakerState(AdminClient admin) {
    return admin.metricSum("taskmesh_circuit_breaker_state", "service=\"task-service\"");
  }

  private static StatusRuntimeException failure(TaskClient client, TaskResponse task) {
    try {
      client.get(task.getId());
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }
}
