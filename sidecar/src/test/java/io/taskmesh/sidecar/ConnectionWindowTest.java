package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawH2Socket;
import io.taskmesh.sidecar.support.WindowedH2Peers;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code budgets.<listener>.maxConnectionBufferBytes} is a connection's HTTP/2 receive window: through a server
 * sidecar's inbound listener, uploads on one connection that together exceed it are held back by flow control, with
 * no more than the budget waiting in the proxy, until the app reads; and many uploads, each larger than its share of
 * the budget, all get through a slow app. The proxy's own connection to its app gets the listener's budget too.
 */
class ConnectionWindowTest {
  private static final int STREAM_WINDOW = 64 * 1024;
  /** The uploader's DATA frames: a frame only partly inside a window is not counted as sent. */
  private static final int FRAME_BYTES = 1024;

  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void uploadsOverTheConnectionsBudgetWaitForTheAppWithNoMoreThanTheBudgetInTheProxy() throws Exception {
    int budget = 512 * 1024;
    WindowedH2Peers.Reader app = mesh.closeLater(new WindowedH2Peers.Reader());
    Sidecar proxy = serverSidecar(app.port(), budget);
    int streams = 16; // 16 stream windows are 1 MiB: the connection's window, not theirs, is what holds them
    int messageBytes = 128 * 1024; // more than the app's window of a stream: no upload can end while it is not reading
    WindowedH2Peers.Uploader caller = mesh.closeLater(new WindowedH2Peers.Uploader(proxy.inboundPort()));
    caller.upload(streams, MeshFixture.SERVICE, messageBytes, FRAME_BYTES);

    awaitSettled(caller::sent);
    long held = caller.sent() - app.received();
    assertThat(held).as("bytes the proxy holds for a caller its app does not read").isLessThanOrEqualTo(budget);
    assertThat(caller.sent()).as("bytes the caller could send: the budget, and what the app's window took")
        .isGreaterThanOrEqualTo(budget - (long) streams * FRAME_BYTES);
    assertThat(app.answered()).isZero();

    app.readEverything();
    await().atMost(Duration.ofSeconds(60)).until(() -> caller.answered() == streams);
    assertThat(app.received()).isEqualTo((long) streams * (5 + messageBytes));
    assertThat(caller.connected()).isTrue();
    assertThat(refusals(proxy)).as("flow control holds a caller back; nothing was refused").isZero();
  }

  @Test
  void manyUploadsOfOneConnectionEachOverItsShareOfTheBudgetAllGetThroughASlowApp() throws Exception {
    int budget = 256 * 1024;
    WindowedH2Peers.Reader app = mesh.closeLater(new WindowedH2Peers.Reader());
    app.readSlowly(32 * 1024, 20);
    Sidecar proxy = serverSidecar(app.port(), budget);
    int streams = 64; // a share of the budget is 4 KiB; each upload is eight times that
    int messageBytes = 32 * 1024;
    WindowedH2Peers.Uploader caller = mesh.closeLater(new WindowedH2Peers.Uploader(proxy.inboundPort()));
    caller.upload(streams, MeshFixture.SERVICE, messageBytes, 16 * 1024);

    await().atMost(Duration.ofSeconds(60)).until(() -> caller.answered() == streams || !caller.connected());
    assertThat(caller.answered()).isEqualTo(streams);
    assertThat(app.received()).isEqualTo((long) streams * (5 + messageBytes));
    assertThat(refusals(proxy)).isZero();
  }

  @Test
  void aCallerThatSendsPastTheConnectionsWindowIsSentAwayWithFlowControlError() throws Exception {
    int budget = 4 * 65_535; // the app takes 65,535 bytes at most: under half, so no window comes back
    WindowedH2Peers.Reader app = mesh.closeLater(new WindowedH2Peers.Reader());
    Sidecar proxy = mesh.sidecar(MeshConfigParser.parse("""
        service: %s
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        budgets: {inbound: {maxStreamBufferBytes: 65535, maxConnectionBufferBytes: %d}}
        """.formatted(MeshFixture.SERVICE, app.port(), budget)));
    try (RawH2Socket raw = new RawH2Socket(proxy.inboundPort()).preface()) {
      for (int stream = 1; stream <= 9; stream += 2) { // five streams, each within its window: 300 KiB in all
        raw.headers(stream, MeshFixture.SERVICE, WindowedH2Peers.PATH, false);
        for (int frame = 0; frame < 4; frame++) {
          raw.data(stream, 15 * 1024, false);
        }
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> raw.receivedFrame(RawH2Socket.GOAWAY));
      assertThat(raw.receivedFrame(RawH2Socket.GOAWAY, 3)).as("GOAWAY(FLOW_CONTROL_ERROR)").isTrue();
    }
  }

  @Test
  void theProxysConnectionToItsAppHasTheListenersBudgetAsItsWindow() throws Exception {
    int budget = 3_000_000; // over twice the proxy's stream window to its app (1 MiB): the budget is the window
    try (ServerSocket app = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Long> windows = new CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> acceptAndSumConnectionWindows(app, windows), "raw-app");
      acceptor.setDaemon(true);
      acceptor.start();
      Sidecar proxy = serverSidecar(app.getLocalPort(), budget);
      WindowedH2Peers.Uploader caller = mesh.closeLater(new WindowedH2Peers.Uploader(proxy.inboundPort()));
      caller.upload(1, MeshFixture.SERVICE, 10, 1024);
      await().atMost(Duration.ofSeconds(20)).until(() -> windows.contains((long) budget));
    }
  }

  /** Each connection's receive window as its WINDOW_UPDATE frames on stream 0 open it, once it stops sending. */
  private static void acceptAndSumConnectionWindows(ServerSocket app, List<Long> windows) {
    while (!app.isClosed()) {
      try {
        Socket connection = app.accept();
        Thread reader = new Thread(() -> {
          try (connection; DataInputStream in = new DataInputStream(connection.getInputStream())) {
            connection.setSoTimeout(1000);
            in.readFully(new byte[24]); // the client preface
            long window = 65_535;
            try {
              while (true) {
                byte[] header = new byte[9];
                in.readFully(header);
                byte[] payload = new byte[((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff)];
                in.readFully(payload);
                boolean connectionStream = (header[5] & 0x7f) == 0 && header[6] == 0 && header[7] == 0 && header[8] == 0;
                if (header[3] == RawH2Socket.WINDOW_UPDATE && connectionStream) {
                  window += ByteBuffer.wrap(payload).getInt() & 0x7fffffffL;
                }
              }
            } catch (SocketTimeoutException quiet) {
              windows.add(window);
            }
          } catch (IOException gone) {
            // the proxy closed it: nothing to measure
          }
        }, "raw-app-connection");
        reader.setDaemon(true);
        reader.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private Sidecar serverSidecar(int appPort, int connectionBudget) {
    return mesh.sidecar(MeshConfigParser.parse("""
        service: %s
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        budgets: {inbound: {maxStreamBufferBytes: %d, maxConnectionBufferBytes: %d}}
        """.formatted(MeshFixture.SERVICE, appPort, STREAM_WINDOW, connectionBudget)));
  }

  private static double refusals(Sidecar proxy) {
    return new AdminClient(proxy.adminPort()).metricSum("taskmesh_listener_budget_exceeded_total",
        "listener=\"inbound\"");
  }

  /** Waits until {@code counter} stops moving for a poll interval. */
  private static void awaitSettled(LongSupplier counter) {
    long[] last = {-1};
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
      long now = counter.getAsLong();
      boolean settled = now == last[0] && now > 0;
      last[0] = now;
      return settled;
    });
  }
}
