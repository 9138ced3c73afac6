package io.taskmesh.sidecar.logical;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.concrete.Backend;
import io.taskmesh.sidecar.concrete.Backends;
import io.taskmesh.sidecar.filter.Outcome;
import io.taskmesh.sidecar.filter.RequestInfo;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.CallPolicy;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.PolicyTable;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.route.Router;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The logical layer on its own: routing, filters, the policy snapshot and its answers, with no upstream. */
class LogicalCallTest {
  private static final CallPolicy POLICY = PolicyTable.of(MeshConfig.defaults("caller"),
      (service, then) -> then.accept(Optional.empty())).outbound("billing");

  private final DefaultEventLoop loop = new DefaultEventLoop();
  private final RecordingDownstream downstream = new RecordingDownstream(loop);

  @AfterEach
  void stop() {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  @Test
  void anUnknownServiceIsAnsweredNoRouteInTheNameOfTheChainsHop() throws Exception {
    ProxyChain chain = chain("gateway", List.of(), noRoute(), service -> POLICY);

    start(chain, request("/billing.Billing/Charge", null));

    Http2Headers answer = downstream.onlyAnswer();
    assertThat(answer.get("grpc-status").toString()).isEqualTo("14");
    assertThat(answer.get(ProxyError.ERROR_HEADER).toString()).contains("hop=gateway").contains("reason=no_route");
  }

  @Test
  void aFilterRefusalIsTheAnswerEveryFilterSeesItsOutcomeAndThePolicyIsReadOnce() throws Exception {
    AtomicInteger lookups = new AtomicInteger();
    AtomicReference<RequestInfo> seen = new AtomicReference<>();
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    StreamFilter refusing = new StreamFilter() {
      @Override
      public Optional<ProxyError> onRequest(RequestInfo request) {
        seen.set(request);
        return Optional.of(request.error(ProxyError.RESOURCE_EXHAUSTED, "test_refusal", "refused by the test"));
      }

      @Override
      public void onComplete(RequestInfo request, Outcome result) {
        outcome.complete(result);
      }
    };
    ProxyChain chain = chain("outbound", List.of(refusing), routeTo(unresolvable()), service -> {
      lookups.incrementAndGet();
      return POLICY;
    });

    start(chain, request("/billing.Billing/Charge", null));

    Http2Headers answer = downstream.onlyAnswer();
    assertThat(answer.get("grpc-status").toString()).isEqualTo("8");
    assertThat(answer.get(ProxyError.ERROR_HEADER).toString())
        .contains("hop=client-sidecar").contains("target=service 'billing'").contains("reason=test_refusal");
    assertThat(outcome.get(10, TimeUnit.SECONDS)).satisfies(result -> {
      assertThat(result.code()).isEqualTo("RESOURCE_EXHAUSTED");
      assertThat(result.proxyGenerated()).isTrue();
      assertThat(result.endpoint()).isNull();
    });
    assertThat(lookups).as("policy lookups for one request").hasValue(1);
    assertThat(seen.get().policy()).isSameAs(POLICY);
    assertThat(seen.get().hop()).isEqualTo("client-sidecar");
  }

  @Test
  void framesThatArriveAfterTheAnswerAreReleased() throws Exception {
    LogicalCall call = start(chain("outbound", List.of(), noRoute(), service -> POLICY),
        request("/billing.Billing/Charge", null));
    ByteBuf body = Unpooled.buffer().writeZero(5);

    loop.submit(() -> call.onRequestFrame(new DefaultHttp2DataFrame(body, true))).get(10, TimeUnit.SECONDS);

    assertThat(body.refCnt()).isZero();
  }

  @Test
  void aClusterResolvedLaterOnAnotherThreadContinuesOnTheCallersEventLoop() throws Exception {
    Backend later = new Backend("billing", 1, (service, then) ->
        new Thread(() -> then.accept(Optional.empty()), "discovery-answer").start());

    start(chain("outbound", List.of(), routeTo(later), service -> POLICY), request("/billing.Billing/Charge", "99999999H"));

    Http2Headers answer = downstream.onlyAnswer();
    assertThat(answer.get(ProxyError.ERROR_HEADER).toString()).contains("reason=no_route");
    assertThat(downstream.sentOnLoop).as("every write on the caller's event loop").isTrue();
  }

  private LogicalCall start(ProxyChain chain, Http2HeadersFrame headers) throws Exception {
    return loop.submit(() -> {
      LogicalCall call = new LogicalCall(chain, downstream, headers);
      call.start();
      return call;
    }).get(10, TimeUnit.SECONDS);
  }

  private static ProxyChain chain(String direction, List<StreamFilter> filters, Router router,
      io.taskmesh.sidecar.route.ActivePolicies.Lookup policies) {
    String hop = direction.equals("gateway") ? "gateway" : "client-sidecar";
    return new ProxyChain(direction, hop, filters, router, policies, Retries.NONE, MethodCatalog.NONE);
  }

  private static Http2HeadersFrame request(String path, String grpcTimeout) {
    Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").path(path).authority("billing");
    if (grpcTimeout != null) {
      headers.set("grpc-timeout", grpcTimeout);
    }
    return new DefaultHttp2HeadersFrame(headers, false);
  }

  private static Backend unresolvable() {
    return new Backend("billing", 1, (service, then) -> then.accept(Optional.empty()));
  }

  private static Router routeTo(Backend backend) {
    Route route = new Route("billing", Backends.single(backend));
    return router(Optional.of(route));
  }

  private static Router noRoute() {
    return router(Optional.empty());
  }

  private static Router router(Optional<Route> route) {
    return new Router() {
      @Override
      public Optional<Route> route(Http2Headers requestHeaders) {
        return route;
      }

      @Override
      public String describeTarget(Http2Headers requestHeaders) {
        return String.valueOf(requestHeaders.authority());
      }
    };
  }

  /** The caller's side, recording what the call sends it. */
  private static final class RecordingDownstream implements Downstream {
    private final EventLoop loop;
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final List<Object> sent = new CopyOnWriteArrayList<>();
    private volatile boolean sentOnLoop = true;

    RecordingDownstream(EventLoop loop) {
      this.loop = loop;
    }

    /** The one frame sent, a trailers-only answer, once it is there. */
    Http2Headers onlyAnswer() {
      await().atMost(Duration.ofSeconds(10)).until(() -> !sent.isEmpty());
      assertThat(sent).hasSize(1);
      Http2HeadersFrame answer = (Http2HeadersFrame) sent.get(0);
      assertThat(answer.isEndStream()).isTrue();
      return answer.headers();
    }

    @Override
    public EventLoop eventLoop() {
      return loop;
    }

    @Override
    public boolean isActive() {
      return true;
    }

    @Override
    public java.util.Optional<io.taskmesh.identity.SpiffeId> peer() {
      return java.util.Optional.empty();
    }

    @Override
    public void readNext() {}

    @Override
    public void whenWritable(Runnable then) {
      then.run();
    }

    @Override
    public ChannelFuture send(Object frame) {
      sentOnLoop &= loop.inEventLoop();
      sent.add(frame);
      return new DefaultChannelPromise(channel, loop).setSuccess();
    }

    @Override
    public void close() {}
  }
}
