package io.taskmesh.sidecar.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.cluster.UpstreamConnector;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import io.taskmesh.sidecar.support.PatienceBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One try on real sockets: connect failover across a cluster, outlier feedback and the latency sample. */
class EndpointAttemptTest {
  /** Ejects after two failures in a row, so the test sees the failures the attempt reports. */
  private static final UpstreamPolicy POLICY = MeshConfigParser.parse("""
      service: caller
      inbound: {port: 0, appPort: 1}
      outbound:
        port: 0
        defaults:
          loadBalancer: ROUND_ROBIN
          outlierDetection: {consecutiveFailures: 2, baseEjection: 30s, maxEjectionPercent: 100}
      admin: {port: 0}
      """).outbound().defaults();

  private final NettyResources netty = new NettyResources(1);
  private final EventLoop loop = netty.workers().next();
  private final RecordingCall call = new RecordingCall();
  private final List<AutoCloseable> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable resource : started) {
      resource.close();
    }
    netty.close();
  }

  @Test
  void anEndpointThatRefusesConnectionsIsLeftForAnotherOneAndCountedFailing() throws Exception {
    PatienceBackend backend = started(new PatienceBackend("reachable", 0));
    Cluster cluster = cluster(closedPort(), backend.port());
    Endpoint refusing = endpointOnPort(cluster, addresses(cluster).get(0).port());
    Set<Endpoint> tried = new HashSet<>();

    loop.execute(() -> new EndpointAttempt(cluster, tried, loop, call).connect(refusing));

    await().atMost(Duration.ofSeconds(10)).until(() -> call.opened != null);
    assertThat(call.opened.endpoint().address().port()).isEqualTo(backend.port());
    assertThat(tried).containsExactly(refusing);
    assertThat(refusing.outstanding()).as("the refusing endpoint no longer counts the try").isZero();
    loop.submit(() -> call.opened.abandon()).get();
  }

  @Test
  void noReachableEndpointEndsTheTryAfterThreeConnectAttemptsEachCountedAsAnEndpointFailure() throws Exception {
    Cluster cluster = cluster(closedPort(), closedPort(), closedPort(), closedPort());
    Set<Endpoint> tried = new HashSet<>();

    loop.execute(() -> new EndpointAttempt(cluster, tried, loop, call).connect(cluster.choose().orElseThrow()));

    await().atMost(Duration.ofSeconds(10)).until(() -> call.connectFailures > 0);
    assertThat(call.connectFailures).isEqualTo(EndpointAttempt.MAX_CONNECT_ATTEMPTS);
    assertThat(tried).hasSize(EndpointAttempt.MAX_CONNECT_ATTEMPTS);
  }

  @Test
  void anAnsweredTryPassesEveryResponseFrameAndSamplesTheEndpointsLatency() throws Exception {
    PatienceBackend backend = started(new PatienceBackend("answers", 0));
    Cluster cluster = cluster(backend.port());
    Endpoint endpoint = cluster.choose().orElseThrow();
    call.onOpen = attempt -> {
      attempt.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("http")
          .path("/taskmesh.proxytest.Patience/Look").authority("patience")
          .set("content-type", "application/grpc").set("te", "trailers"), false));
      attempt.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.buffer().writeZero(5), true)); // an empty message
    };

    loop.execute(() -> new EndpointAttempt(cluster, new HashSet<>(), loop, call).connect(endpoint));

    await().atMost(Duration.ofSeconds(10)).until(() -> call.ended);
    assertThat(call.frames).first().isInstanceOf(Http2HeadersFrame.class);
    assertThat(call.frames).last().satisfies(trailers ->
        assertThat(((Http2HeadersFrame) trailers).headers().get("grpc-status").toString()).isEqualTo("0"));
    assertThat(endpoint.ewmaLatencyNanos()).as("the sample replaced the initial 1 ms guess").isNotEqualTo(1_000_000.0);
    assertThat(call.resets).isZero();
  }

  private <T extends AutoCloseable> T started(T resource) {
    started.add(resource);
    return resource;
  }

  private Cluster cluster(int... ports) {
    Cluster cluster = new Cluster("patience", new UpstreamConnector(netty), POLICY);
    List<EndpointAddress> addresses = new ArrayList<>();
    for (int port : ports) {
      addresses.add(new EndpointAddress("127.0.0.1", port));
    }
    cluster.update(addresses);
    return cluster;
  }

  private static List<EndpointAddress> addresses(Cluster cluster) {
    return cluster.endpoints().stream().map(Endpoint::address).toList();
  }

  private static Endpoint endpointOnPort(Cluster cluster, int port) {
    return cluster.endpoints().stream().filter(endpoint -> endpoint.address().port() == port).findFirst().orElseThrow();
  }

  /** A loopback port nothing listens on (just closed). */
  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** The logical call's side, recording what its try tells it. */
  private final class RecordingCall implements EndpointAttempt.Listener {
    private final EmbeddedChannel caller = new EmbeddedChannel();
    private final List<Object> frames = new CopyOnWriteArrayList<>();
    private volatile java.util.function.Consumer<EndpointAttempt> onOpen = attempt -> { };
    private volatile EndpointAttempt opened;
    private volatile int connectFailures;
    private volatile int resets;
    private volatile boolean ended;

    @Override
    public boolean isOver() {
      return ended;
    }

    @Override
    public void opened(EndpointAttempt attempt) {
      opened = attempt;
      onOpen.accept(attempt);
    }

    @Override
    public void connectFailed(EndpointAttempt attempt, Throwable cause, int endpointsTried) {
      connectFailures = endpointsTried;
    }

    @Override
    public void trailersOnly(EndpointAttempt attempt, Http2HeadersFrame trailers) {
      attempt.pass(trailers);
    }

    @Override
    public ChannelFuture respond(Object frame, boolean endsStream) {
      frames.add(frame);
      if (!(frame instanceof Http2HeadersFrame)) {
        ReferenceCountUtil.release(frame);
      }
      ended |= endsStream;
      return caller.newSucceededFuture();
    }

    @Override
    public void reset(EndpointAttempt attempt, boolean refused) {
      resets++;
    }

    @Override
    public void whenCallerWritable(Runnable then) {
      then.run();
    }
  }
}
