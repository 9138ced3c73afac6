package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawHttp2Client;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three backends, each behind its server sidecar, called through one client sidecar. A backend's app
 * dies: its sidecar answers UNAVAILABLE before the app saw anything, so the client sidecar retries on
 * another endpoint and ejects the dead one. All backends failing: retries stay within the budget.
 */
class RetryTest {
  private static final Metadata.Key<String> ERROR_HEADER =
      Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER);
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void killingOneOfThreeBackendsUnderLoadFailsOnlyCallsItHadTakenEjectsItAndLeavesTheCircuitClosed() throws Exception {
    List<TaskServer> apps = new ArrayList<>();
    int[] inboundPorts = new int[3];
    for (int i = 0; i < 3; i++) {
      TaskServer app = mesh.backend();
      apps.add(app);
      inboundPorts[i] = mesh.serverSidecar(app).inboundPort();
    }
    Sidecar caller = mesh.clientSidecar("ROUND_ROBIN", inboundPorts);
    TaskClient client = mesh.clientThrough(caller);
    AdminClient admin = new AdminClient(caller.adminPort());

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger succeeded = new AtomicInteger();
    List<StatusRuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService load = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int worker = w;
      workers.add(load.submit(() -> {
        for (int n = 0; running.get(); n++) {
          try {
            client.create("task " + worker + "-" + n, "", "low", 13);
            succeeded.incrementAndGet();
          } catch (StatusRuntimeException e) {
            failures.add(e);
          }
        }
      }));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> succeeded.get() >= 100);
    apps.get(1).close(); // its sidecar stays up and answers UNAVAILABLE: connection refused by the app
    int atKill = succeeded.get();
    await().atMost(Duration.ofSeconds(60)).until(() -> succeeded.get() >= atKill + 300
        && admin.get("/clusters").body().contains("\"127.0.0.1:" + inboundPorts[1] + "\",\"state\":\"ACTIVE\",\"ejected\":true"));
    running.set(false);
    for (Future<?> worker : workers) {
      worker.get();
    }
    load.shutdown();

    // a CreateTask the app had taken when it died may have acted: it is reset, and rightly not sent again
    assertThat(failures).as("calls that failed although a retry could save them")
        .allSatisfy(failure -> assertThat(String.valueOf(failure.getTrailers() == null ? null
            : failure.getTrailers().get(ERROR_HEADER))).contains("reason=upstream_reset"))
        .hasSizeLessThanOrEqualTo(4); // at most one in flight per worker at the kill
    assertThat(admin.metricSum("taskmesh_retries_total", "service=\"task-service\"")).isPositive();
    assertThat(admin.metricSum("taskmesh_circuit_breaker_state", "service=\"task-service\"")).isZero();
  }

  @Test
  void withEveryBackendFailingRetriesStayWithinTheBudget() throws Exception {
    List<Sidecar> servers = new ArrayList<>();
    int[] inboundPorts = new int[2];
    for (int i = 0; i < 2; i++) {
      TaskServer app = mesh.backend();
      Sidecar server = mesh.serverSidecar(app);
      servers.add(server);
      inboundPorts[i] = server.inboundPort();
      app.close(); // every app is down: each server sidecar answers UNAVAILABLE
    }
    Sidecar caller = mesh.callerWithDefaults("{retries: {attempts: 5, perTryTimeout: 1s, retryOn: [UNAVAILABLE], budgetPercent: 20},"
        + " circuitBreaker: {failureRateThreshold: 100, minimumCalls: 1000, slidingWindow: 1000, waitInOpen: 10s,"
        + " permittedInHalfOpen: 2}}", inboundPorts[0], inboundPorts[1]);
    TaskClient client = mesh.clientThrough(caller);

    int requests = 300;
    for (int i = 0; i < requests; i++) {
      try {
        client.get(1_000_000 + i);
      } catch (StatusRuntimeException expected) {
        // UNAVAILABLE: that is the point
      }
    }

    double retries = new AdminClient(caller.adminPort()).metricSum("taskmesh_retries_total");
    double refused = new AdminClient(caller.adminPort()).metricSum("taskmesh_retries_refused_total");
    double reachedUpstream = 0;
    for (Sidecar server : servers) {
      reachedUpstream += new AdminClient(server.adminPort()).metricSum("taskmesh_requests_total", "direction=\"inbound\"",
          "method=\"/taskservice.TaskService/GetTask\"");
    }
    long allowed = requests * 20 / 100 + 10; // budgetPercent of the requests, plus the per-window floor
    assertThat(retries).isPositive().isLessThanOrEqualTo(allowed);
    assertThat(refused).as("retries the budget refused").isPositive();
    assertThat(reachedUpstream).as("tries that reached a server sidecar").isEqualTo(requests + retries);
  }
  @Test
  void aFarSidecarThatCouldNotReachItsAppBeforeTheBodyCameIsTriedElsewhereOnceTheBodyIsHere() throws Exception {
    TaskServer doomed = mesh.backend();
    TaskServer survivor = mesh.backend();
    Sidecar first = mesh.serverSidecar(doomed);
    Sidecar second = mesh.serverSidecar(survivor);
    // a route timeout far above the wait for the far side's answer below
    Sidecar caller = mesh.callerWithDefaults("{loadBalancer: ROUND_ROBIN, timeout: 60s}", first.inboundPort(),
        second.inboundPort());
    AdminClient callerAdmin = new AdminClient(caller.adminPort());
    TaskClient client = mesh.clientThrough(caller);
    await("the caller knows CreateTask is unary").atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      client.create("warm up", "", "low", 1);
      assertThat(callerAdmin.get("/methods").body()).contains("/taskservice.TaskService/CreateTask\":{\"unary\":true");
    });
    doomed.close(); // its sidecar answers UNAVAILABLE as soon as a request's headers come: the app refuses
    AdminClient firstAdmin = new AdminClient(first.adminPort());

    int answeredBeforeTheBody = 0;
    int calls = 0;
    try (RawHttp2Client raw = new RawHttp2Client(caller.outboundPort())) {
      for (; calls < 8 && answeredBeforeTheBody < 2; calls++) {
        double refusedBefore = refusedBy(firstAdmin);
        RawHttp2Client.OpenRequest request = raw.open(new DefaultHttp2Headers().method("POST").scheme("http")
            .path("/taskservice.TaskService/CreateTask").authority(MeshFixture.SERVICE)
            .set("content-type", "application/grpc").set("te", "trailers").set("grpc-timeout", "30S"), false);
        // a caller slow to send its body, as a loaded client is: the far side's answer comes first
        long waitUntil = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (refusedBy(firstAdmin) == refusedBefore && System.nanoTime() < waitUntil) {
          Thread.sleep(20);
        }
        if (refusedBy(firstAdmin) > refusedBefore) {
          answeredBeforeTheBody++;
        }
        request.finish(CreateTaskRequest.newBuilder().setTitle("late body " + calls).setUserId(77).build().toByteArray());

        Http2StreamFrame answer = request.answer();
        assertThat(answer).isInstanceOf(Http2HeadersFrame.class);
        Http2Headers headers = ((Http2HeadersFrame) answer).headers();
        assertThat(headers.get("grpc-status")).as("call %d answered %s", calls, headers).isNull();
        assertThat(headers.status()).hasToString("200");
      }
    }

    assertThat(answeredBeforeTheBody).as("calls the far sidecar refused before their body came").isPositive();
    int made = calls;
    await("every call's task on the survivor, once").atMost(Duration.ofSeconds(30))
        .until(() -> MeshFixture.tasksOn(survivor, 77), tasks -> tasks == made);
  }

  private static double refusedBy(AdminClient serverSidecar) {
    return serverSidecar.metricSum("taskmesh_requests_total", "direction=\"inbound\"", "code=\"UNAVAILABLE\"");
  }
}
