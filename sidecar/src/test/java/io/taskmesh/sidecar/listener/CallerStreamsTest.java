package io.taskmesh.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.overload.OverloadManager;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.PolicyTable;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.route.Router;
import io.taskmesh.sidecar.support.RawHttp2Client;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The relay of one connection's streams: a call that fails resets its own stream, never its connection's others. */
class CallerStreamsTest {
  private static final MeshConfig CONFIG = MeshConfig.defaults("caller");

  private final NettyResources netty = new NettyResources(1);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private ProxyListener listener;

  @AfterEach
  void stop() {
    if (listener != null) {
      listener.close();
    }
    netty.close();
  }

  @Test
  void aCallThatFailsResetsItsOwnStreamAndTheConnectionGoesOnServingOthers() throws Exception {
    ProxyChain chain = new ProxyChain("outbound", "client-sidecar", List.of(), new FailingForBoom(),
        PolicyTable.of(CONFIG, (service, then) -> then.accept(Optional.empty()))::outbound, Retries.NONE,
        MethodCatalog.NONE);
    listener = ProxyListener.bind(netty, "127.0.0.1", 0, chain, CONFIG.budgets().outbound(),
        new BudgetCounter(registry, "outbound"), new OverloadManager(CONFIG.overload(), netty.workers(), registry),
        anyPeer -> true, Duration.ofSeconds(1));

    try (RawHttp2Client client = new RawHttp2Client(listener.port())) {
      assertThatThrownBy(() -> client.send(request("/boom.Boom/Fail"))).as("the failed call's stream is reset")
          .hasMessageContaining("stream closed without an answer");

      Http2StreamFrame answered = client.send(request("/billing.Billing/Charge"));
      assertThat(answered).as("the next stream on the same connection").isInstanceOf(Http2HeadersFrame.class);
      assertThat(((Http2HeadersFrame) answered).headers().get("taskmesh-error").toString()).contains("no_route");
    }
    assertThat(listener.relayedStreams()).isZero();
  }

  private static Http2Headers request(String path) {
    return new DefaultHttp2Headers().method("POST").scheme("http").path(path).authority("billing")
        .set("content-type", "application/grpc");
  }

  /** A router with a bug for one path; no route for any other. */
  private static final class FailingForBoom implements Router {
    @Override
    public Optional<Route> route(Http2Headers requestHeaders) {
      if (String.valueOf(requestHeaders.path()).startsWith("/boom.")) {
        throw new IllegalStateException("a bug in routing");
      }
      return Optional.empty();
    }

    @Override
    public String describeTarget(Http2Headers requestHeaders) {
      return String.valueOf(requestHeaders.authority());
    }
  }
}
