package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.overload.DirectMemory;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.NeverAnsweringBackend;
import io.taskmesh.sidecar.support.RawH2Socket;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each budget of a listener, attacked through a real proxy (the client sidecar's outbound listener, in front of
 * a server sidecar and a task-service): the connection that breaks it is refused or closed, the budget's metric
 * counts it, the proxy's direct memory stays within {@link #DIRECT_MEMORY_BOUND} of what it was, and a fresh
 * well-behaved call is answered.
 */
class ListenerBudgetsTest {
  private static final String GET_TASK = "/taskservice.TaskService/GetTask";
  /** What one attack may add to the JVM's direct memory (pooled chunks included). */
  private static final long DIRECT_MEMORY_BOUND = 32L * 1024 * 1024;

  private final MeshFixture mesh = new MeshFixture();
  private int serverInbound;
  private long directMemoryBefore;

  @BeforeEach
  void startServerSide() {
    serverInbound = mesh.serverSidecar(mesh.backend()).inboundPort();
    directMemoryBefore = DirectMemory.used();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void aConnectionThatSaysNothingIsClosedAtTheFirstByteTimeout() throws Exception {
    Sidecar proxy = clientSidecar("{firstByteTimeout: 300ms}");
    try (Socket silent = new Socket("127.0.0.1", proxy.outboundPort())) {
      silent.setSoTimeout(20_000);
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
    }
    assertCounted(proxy, "first_byte_timeout");
  }

  @Test
  void anHttp1RequestWhoseHeadersNeverEndIsClosedAtTheHeaderTimeout() throws Exception {
    Sidecar proxy = clientSidecar("{headerTimeout: 300ms}");
    try (Socket slowloris = new Socket("127.0.0.1", proxy.outboundPort())) {
      slowloris.setSoTimeout(20_000);
      slowloris.getOutputStream().write("GET / HTTP/1.1\r\nHost: task-service\r\nX-Padding: a".getBytes(StandardCharsets.US_ASCII));
      assertThat(readUntilClosed(slowloris.getInputStream())).isEmpty();
    }
    assertCounted(proxy, "header_timeout");
  }

  @Test
  void anHttp2HeaderBlockThatNeverEndsIsClosedAtTheHeaderTimeout() throws Exception {
    Sidecar proxy = clientSidecar("{headerTimeout: 300ms}");
    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort())) {
      raw.preface().unfinishedHeaders(1, MeshFixture.SERVICE, GET_TASK);
      assertThat(raw.closedWithin(20)).isTrue();
    }
    assertCounted(proxy, "header_timeout");
  }

  @Test
  void aConnectionWithNothingInProgressIsClosedAfterTheIdleTimeout() throws Exception {
    Sidecar proxy = clientSidecar("{idleTimeout: 500ms}");
    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort())) {
      raw.preface().headers(1, "nowhere.example", GET_TASK, true); // answered at once: no route
      assertThat(raw.closedWithin(20)).isTrue();
      assertThat(raw.receivedFrame(RawH2Socket.GOAWAY, 0)).isTrue(); // graceful: GOAWAY(NO_ERROR) first
    }
    assertCounted(proxy, "idle_timeout");
  }

  @Test
  void connectionsOverTheLimitAreClosedAtOnce() throws Exception {
    Sidecar proxy = clientSidecar("{maxConnections: 2}");
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        held.add(new Socket("127.0.0.1", proxy.outboundPort()));
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> proxy.outboundOpenConnections() == 2);
      try (Socket third = new Socket("127.0.0.1", proxy.outboundPort())) {
        third.setSoTimeout(20_000);
        assertThat(third.getInputStream().read()).isEqualTo(-1);
      }
      assertThat(new AdminClient(proxy.adminPort()).metricSum("taskmesh_listener_budget_exceeded_total",
          "budget=\"max_connections\"", "listener=\"outbound\"")).isPositive();
    } finally {
      for (Socket socket : held) {
        socket.close();
      }
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> proxy.outboundOpenConnections() == 0);
    assertStillServing(proxy);
  }

  @Test
  void aConnectionsReceiveWindowIsItsBufferBudget() throws Exception {
    Sidecar proxy = clientSidecar("{maxConnectionBufferBytes: 3000000}");

    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort()).preface()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> raw.receivedFrame(RawH2Socket.WINDOW_UPDATE));
      raw.ping(); // its answer comes after every frame the proxy sent before it
      await().atMost(Duration.ofSeconds(10)).until(() -> raw.receivedFrame(RawH2Socket.PING));
      long opened = raw.received().stream()
          .filter(frame -> frame.type() == RawH2Socket.WINDOW_UPDATE && frame.streamId() == 0)
          .mapToLong(RawH2Socket.Frame::code).sum();
      assertThat(65_535 + opened).as("HTTP/2's first 65,535 bytes and every increase of the connection's window")
          .isEqualTo(3_000_000);
    }
  }

  @Test
  void streamsOverTheConcurrentStreamLimitAreRefused() throws Exception {
    Sidecar proxy = clientSidecar("{maxConcurrentStreams: 2}");
    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort())) {
      raw.preface(); // then ignores the SETTINGS that says 2, as an attacker would
      for (int stream = 1; stream <= 7; stream += 2) {
        raw.headers(stream, MeshFixture.SERVICE, GET_TASK, false);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> raw.receivedFrame(RawH2Socket.RST_STREAM, 7)); // REFUSED_STREAM
    }
    assertCounted(proxy, "max_concurrent_streams");
  }

  @Test
  void aPeerThatStopsAnsweringIsClosedAfterTheKeepaliveTimeout() throws Exception {
    Sidecar proxy = clientSidecar("{keepaliveInterval: 300ms, keepaliveTimeout: 300ms}");
    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort())) {
      raw.preface().headers(1, MeshFixture.SERVICE, GET_TASK, false); // a stream in progress, then silence
      assertThat(raw.closedWithin(20)).isTrue();
      assertThat(raw.receivedFrame(RawH2Socket.PING)).isTrue();
    }
    assertCounted(proxy, "keepalive_timeout");
  }

  @Test
  void anOldConnectionGetsGoAwayAndItsClientMovesToANewOneWithoutFailedCalls() throws Exception {
    Sidecar proxy = clientSidecar("{maxConnectionAge: 300ms}");
    TaskClient client = mesh.clientThrough(proxy);
    long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    for (int i = 0; i < 200 && System.nanoTime() < until; i++) {
      assertThat(client.create("call " + i, "", "low", 4).getTitle()).isEqualTo("call " + i);
    }
    assertCounted(proxy, "max_connection_age");
  }

  @Test
  void aRapidResetFloodGetsGoAwayEnhanceYourCalm() throws Exception {
    Sidecar proxy = clientSidecar("{}");
    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort())) {
      raw.preface();
      for (int stream = 1; stream < 2 * 2000 && !raw.receivedFrame(RawH2Socket.GOAWAY); stream += 2) {
        raw.headers(stream, MeshFixture.SERVICE, GET_TASK, false).reset(stream);
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> raw.receivedFrame(RawH2Socket.GOAWAY, 0xb));
      assertThat(raw.closedWithin(20)).isTrue();
    } catch (java.net.SocketException closedWhileWriting) {
      // the proxy closed the connection after its GOAWAY; the metric below says why
    }
    assertCounted(proxy, "premature_resets");
    assertThat(budgetExceeded(proxy, "http2_abuse")).as("counted once, by the budget that fired").isZero();
  }

  @Test
  void aCallerCancellingManyCallsWhoseDeadlinesExpiredKeepsItsConnection() throws Exception {
    NeverAnsweringBackend app = mesh.closeLater(NeverAnsweringBackend.start());
    Sidecar proxy = mesh.sidecar(MeshConfigParser.parse(
        MeshFixture.clientConfigYaml("ROUND_ROBIN", mesh.serverSidecar(app.port()).inboundPort())));
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", proxy.outboundPort())
        .overrideAuthority(MeshFixture.SERVICE).usePlaintext().build();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> channel.getState(true) == ConnectivityState.READY);
      AtomicBoolean leftReady = new AtomicBoolean();
      channel.notifyWhenStateChanged(ConnectivityState.READY, () -> leftReady.set(true)); // a GOAWAY would
      // 8 waves of 50: each call reset by the caller at its deadline, twice the budget's burst of 200
      for (int wave = 0; wave < 8; wave++) {
        List<ListenableFuture<byte[]>> calls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          calls.add(ClientCalls.futureUnaryCall(channel.newCall(NeverAnsweringBackend.WAIT,
              CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS)), new byte[0]));
        }
        for (ListenableFuture<byte[]> call : calls) {
          ExecutionException failed = assertThrows(ExecutionException.class, () -> call.get(30, TimeUnit.SECONDS));
          assertThat(Status.fromThrowable(failed).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        }
      }
      assertThat(leftReady).as("the caller's connection was never sent away").isFalse();
      assertThat(budgetExceeded(proxy, "premature_resets")).isZero();
      assertThat(budgetExceeded(proxy, "http2_abuse")).isZero();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void aContinuationFloodIsCutOff() throws Exception {
    Sidecar proxy = clientSidecar("{}");
    try (RawH2Socket raw = new RawH2Socket(proxy.outboundPort())) {
      raw.preface().unfinishedHeaders(1, MeshFixture.SERVICE, GET_TASK);
      for (int i = 0; i < 10_000 && !raw.receivedFrame(RawH2Socket.GOAWAY); i++) {
        raw.continuation(1, new byte[0]);
      }
      assertThat(raw.closedWithin(20)).isTrue();
      assertThat(raw.receivedFrame(RawH2Socket.GOAWAY)).isTrue();
    } catch (java.net.SocketException closedWhileWriting) {
      // closed by the proxy mid-flood: what the guard is for
    }
    assertStillServing(proxy);
    assertDirectMemoryBounded();
  }

  @Test
  void aCallToAnEndpointThatStopsAnsweringFailsAtTheUpstreamKeepaliveTimeoutInsteadOfHanging() throws Exception {
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> swallowEverything(silent), "silent-endpoint");
      acceptor.setDaemon(true);
      acceptor.start();
      Sidecar proxy = mesh.sidecar(MeshConfigParser.parse(MeshFixture.clientConfigYaml("ROUND_ROBIN", silent.getLocalPort())
          + "budgets: {upstream: {keepaliveInterval: 300ms, keepaliveTimeout: 300ms}}\n"));
      TaskClient client = mesh.clientThrough(proxy);

      long started = System.nanoTime();
      io.grpc.StatusRuntimeException failed = org.junit.jupiter.api.Assertions.assertThrows(
          io.grpc.StatusRuntimeException.class, () -> client.get(424242)); // the client's deadline is 10 s
      assertThat(failed.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(9));
      assertThat(new AdminClient(proxy.adminPort()).metricSum("taskmesh_listener_budget_exceeded_total",
          "budget=\"keepalive_timeout\"", "listener=\"upstream\"")).isPositive();
    }
  }

  /** An HTTP/2 endpoint that says SETTINGS once and then reads everything and answers nothing, PINGs included. */
  private static void swallowEverything(java.net.ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket connection = server.accept();
        Thread reader = new Thread(() -> {
          try (connection; InputStream in = connection.getInputStream()) {
            connection.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // empty SETTINGS
            in.transferTo(java.io.OutputStream.nullOutputStream());
          } catch (java.io.IOException closed) {
            // the proxy closed it: what the test waits for
          }
        });
        reader.setDaemon(true);
        reader.start();
      } catch (java.io.IOException closed) {
        return;
      }
    }
  }

  private Sidecar clientSidecar(String outboundBudgets) {
    return mesh.sidecar(MeshConfigParser.parse(MeshFixture.clientConfigYaml("ROUND_ROBIN", serverInbound)
        + "budgets: {outbound: " + outboundBudgets + "}\n"));
  }

  private void assertCounted(Sidecar proxy, String budget) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(budgetExceeded(proxy, budget)).isPositive());
    assertStillServing(proxy);
    assertDirectMemoryBounded();
  }

  private static double budgetExceeded(Sidecar proxy, String budget) {
    return new AdminClient(proxy.adminPort()).metricSum("taskmesh_listener_budget_exceeded_total",
        "budget=\"" + budget + "\"", "listener=\"outbound\"");
  }

  private void assertStillServing(Sidecar proxy) {
    TaskClient fresh = mesh.clientThrough(proxy);
    assertThat(fresh.create("fresh", "", "low", 4).getTitle()).isEqualTo("fresh");
  }

  private void assertDirectMemoryBounded() {
    assertThat(DirectMemory.used() - directMemoryBefore).isLessThan(DIRECT_MEMORY_BOUND);
  }

  private static String readUntilClosed(InputStream in) throws Exception {
    StringBuilder text = new StringBuilder();
    for (int b; (b = in.read()) >= 0; ) {
      text.append((char) b);
    }
    return text.toString();
  }
}
