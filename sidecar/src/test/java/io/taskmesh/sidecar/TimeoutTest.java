package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitReply;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.PatienceBackend;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Timeouts need to know unary calls from streams: the client sidecar learns it from the upstream's server
 * reflection. A unary call without a deadline gets the route timeout; a watch without one is never cut;
 * a unary try that does not answer within the per-try timeout is retried on another endpoint when the
 * method is safe to send twice (the proto or the retry policy says so), and fails with the reason otherwise.
 */
class TimeoutTest {
  private static final String SERVICE = "patience";
  private static final String RETRIES = "{attempts: 3, perTryTimeout: 300ms, retryOn: [UNAVAILABLE], budgetPercent: 100}";
  private final MeshFixture mesh = new MeshFixture();
  /** The caller's, once {@link #callerOf} started it. */
  private ManagedChannel channel;
  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void aUnaryCallWithoutDeadlineGetsTheRouteTimeoutAndTheBackendSeesItCancelled() {
    PatienceBackend never = mesh.closeLater(new PatienceBackend("never", -1));
    Sidecar caller = callerOf(never);

    StatusRuntimeException failure = (StatusRuntimeException) org.assertj.core.api.Assertions.catchThrowable(
        () -> stub().look(WaitRequest.getDefaultInstance())); // idempotent: tried again at the per-try timeout
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(failure.getStatus().getDescription()).contains("client-sidecar").contains("route timeout of 400 ms");
    await().atMost(Duration.ofSeconds(30)).until(() -> never.cancelled() == never.calls());
    assertThat(new AdminClient(caller.adminPort()).get("/methods").body())
        .contains("\"/taskmesh.proxytest.Patience/Watch\":{\"unary\":false");
  }

  @Test
  void aWatchWithoutDeadlineOutlivesTheRouteTimeout() throws Exception {
    PatienceBackend backend = mesh.closeLater(new PatienceBackend("watched", 0));
    callerOf(backend);
    AtomicReference<Throwable> ended = new AtomicReference<>();
    PatienceGrpc.newStub(channel).watch(WaitRequest.getDefaultInstance(), new StreamObserver<>() {
      @Override
      public void onNext(WaitReply value) {}

      @Override
      public void onError(Throwable t) {
        ended.set(t);
      }

      @Override
      public void onCompleted() {
        ended.set(new IllegalStateException("completed"));
      }
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.openWatches() == 1);

    Thread.sleep(5 * 400); // five route timeouts: a unary call would long be over
    assertThat(ended.get()).as("how the watch ended").isNull();
    assertThat(backend.openWatches()).isEqualTo(1);
  }

  @Test
  void anIdempotentTryWithoutAnswerWithinThePerTryTimeoutIsRetriedOnAnotherEndpoint() {
    PatienceBackend never = mesh.closeLater(new PatienceBackend("never", -1));
    PatienceBackend quick = mesh.closeLater(new PatienceBackend("quick", 0));
    Sidecar caller = callerOf("20s", RETRIES, never, quick);

    assertRetriedOnTheQuickEndpoint(caller, never, () -> stub().withDeadlineAfter(20, TimeUnit.SECONDS)
        .look(WaitRequest.getDefaultInstance()));
  }

  @Test
  void aMethodTheRetryPolicyListsAsIdempotentIsRetriedPastThePerTryTimeoutToo() {
    PatienceBackend never = mesh.closeLater(new PatienceBackend("never", -1));
    PatienceBackend quick = mesh.closeLater(new PatienceBackend("quick", 0));
    Sidecar caller = callerOf("20s", RETRIES.replace("}", ", idempotent: [/taskmesh.proxytest.Patience/Wait]}"), never,
        quick);

    assertRetriedOnTheQuickEndpoint(caller, never, () -> stub().withDeadlineAfter(20, TimeUnit.SECONDS)
        .wait(WaitRequest.getDefaultInstance()));
  }

  @Test
  void aTryOfAMethodNotSafeToSendTwiceIsNotCutAtThePerTryTimeoutAndIsNeverSentAgain() {
    PatienceBackend never = mesh.closeLater(new PatienceBackend("never", -1));
    PatienceBackend alsoNever = mesh.closeLater(new PatienceBackend("also-never", -1));
    Sidecar caller = callerOf(never, alsoNever);
    int callsBefore = never.calls() + alsoNever.calls();

    StatusRuntimeException failure = (StatusRuntimeException) org.assertj.core.api.Assertions.catchThrowable(
        () -> stub().wait(WaitRequest.getDefaultInstance()));

    // it could not be tried again anyway, so it gets the whole route timeout (400 ms), not the per-try 300 ms; the
    // client sidecar's timer or the server sidecar's (the request carried the time left) ends it, whichever is first
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(failure.getStatus().getDescription()).satisfiesAnyOf(
        description -> assertThat(description).contains("client-sidecar").contains("route timeout of 400 ms"),
        description -> assertThat(description).contains("server-sidecar").containsPattern("deadline of (3[5-9][0-9]|400) ms"));
    assertThat(failure.getTrailers().get(io.grpc.Metadata.Key.of("taskmesh-error", io.grpc.Metadata.ASCII_STRING_MARSHALLER)))
        .doesNotContain("per_try_timeout");
    assertThat(never.calls() + alsoNever.calls() - callsBefore).as("tries that reached a backend").isEqualTo(1);
    await().atMost(Duration.ofSeconds(30)).until(() -> never.cancelled() + alsoNever.cancelled()
        == never.calls() + alsoNever.calls());
    assertThat(new AdminClient(caller.adminPort()).metricSum("taskmesh_retries_total", "service=\"patience\"")).isZero();
  }

  /** Ten calls all answered by the quick backend, each try on the silent one abandoned and retried. */
  private void assertRetriedOnTheQuickEndpoint(Sidecar caller, PatienceBackend never,
      java.util.function.Supplier<WaitReply> call) {
    AdminClient admin = new AdminClient(caller.adminPort());
    int neverCallsBefore = never.calls();
    double retriesBefore = admin.metricSum("taskmesh_retries_total");

    for (int i = 0; i < 10; i++) {
      assertThat(call.get().getServedBy()).isEqualTo("quick");
    }
    int triesOnNever = never.calls() - neverCallsBefore;
    assertThat(triesOnNever).isPositive();
    await().atMost(Duration.ofSeconds(30)).until(() -> never.cancelled() == never.calls());
    assertThat(admin.metricSum("taskmesh_retries_total") - retriesBefore).isEqualTo(triesOnNever);
  }

  /** A client sidecar over server sidecars in front of {@code backends}, once it knows the methods. */
  private Sidecar callerOf(PatienceBackend... backends) {
    return callerOf("400ms", RETRIES, backends);
  }

  /** @param timeout the route timeout: it also caps a caller's longer deadline */
  private Sidecar callerOf(String timeout, String retries, PatienceBackend... backends) {
    StringBuilder endpoints = new StringBuilder();
    for (PatienceBackend backend : backends) {
      Sidecar server = mesh.sidecar(MeshConfigParser.parse("""
          service: %s
          inbound: {port: 0, appPort: %d}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(SERVICE, backend.port())));
      endpoints.append(endpoints.isEmpty() ? "" : ", ").append("\"127.0.0.1:").append(server.inboundPort()).append('"');
    }
    Sidecar caller = mesh.sidecar(MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {static: {%s: [%s]}}
          defaults:
            timeout: %s
            loadBalancer: ROUND_ROBIN
            retries: %s
        admin: {port: 0}
        """.formatted(SERVICE, endpoints, timeout, retries)));
    channel = mesh.channelThrough(caller, SERVICE);
    AdminClient admin = new AdminClient(caller.adminPort());
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      try { // the first call makes the sidecar ask the service's reflection
        stub().withDeadlineAfter(100, TimeUnit.MILLISECONDS).look(WaitRequest.getDefaultInstance());
      } catch (StatusRuntimeException expected) {
        // the never-answering backend
      }
      return admin.get("/methods").body().contains("Patience/Wait");
    });
    return caller;
  }

  private PatienceGrpc.PatienceBlockingStub stub() {
    return PatienceGrpc.newBlockingStub(channel);
  }
}
