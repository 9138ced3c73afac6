package io.taskmesh.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.filter.Outcome;
import io.taskmesh.sidecar.filter.RequestInfo;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.GrpcTimeout;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.cluster.Cluster;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Proxies one HTTP/2 stream: the downstream stream (from the caller) is routed, an upstream stream is
 * opened on a pooled connection to the chosen endpoint, and frames are copied across without copying
 * their bodies. Both sides read one batch at a time and read the next only when the other side took
 * the last write, so a slow receiver slows the sender (HTTP/2 windows do the rest). A reset on either
 * side resets the other.
 */
final class StreamProxyHandler extends ChannelInboundHandlerAdapter {
  /** Endpoints tried when connecting fails: safe for every request, since nothing was sent yet. */
  private static final int MAX_CONNECT_ATTEMPTS = 3;

  private static final String[] STATUS_NAMES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
  };

  private final ProxyChain chain;
  private final long startNanos = System.nanoTime();
  private final Queue<Object> beforeUpstream = new ArrayDeque<>();
  private final AtomicBoolean completed = new AtomicBoolean();
  private Channel downstream;
  private volatile Http2StreamChannel upstream;
  private volatile boolean responseEnded;
  private volatile boolean responseStarted;
  private volatile String grpcStatus;
  private volatile long upstreamOpenedNanos;
  private RequestInfo request;
  /** The caller's deadline (System.nanoTime), or 0 when the request carries no grpc-timeout. */
  private long deadlineNanos;
  private io.netty.util.concurrent.ScheduledFuture<?> deadlineTimer;
  private Endpoint endpoint;
  private Cluster cluster;
  private final Set<Endpoint> unreachable = new HashSet<>();
  private boolean started;

  StreamProxyHandler(ProxyChain chain) {
    this.chain = chain;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    downstream = ctx.channel();
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!started && msg instanceof Http2HeadersFrame headers) {
      started = true;
      start(headers);
    } else if (completed.get()) {
      ReferenceCountUtil.release(msg);
    } else if (upstream == null) {
      beforeUpstream.add(msg);
    } else {
      forwardToUpstream(msg, true);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePending();
    Http2StreamChannel up = upstream;
    if (up != null && !responseEnded) {
      up.close(); // an open stream closes with RST_STREAM(CANCEL): the caller went away
    }
    complete(responseEnded ? grpcStatus : "CANCELLED", false);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  private void start(Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    String method = headers.path() == null ? "" : headers.path().toString();
    Optional<Route> route = chain.router().route(headers);
    String service = route.map(Route::service).orElse(chain.router().describeTarget(headers));
    request = new RequestInfo(chain.direction(), service, method, startNanos, headers);
    if (route.isEmpty()) {
      answer(new ProxyError(chain.hop(), "service '" + service + "'", ProxyError.UNAVAILABLE, "no_route",
          "no route: the service is not known to this proxy (not in discovery)"));
      return;
    }
    for (StreamFilter filter : chain.filters()) {
      Optional<ProxyError> refused = filter.onRequest(request);
      if (refused.isPresent()) {
        answer(refused.get());
        return;
      }
    }
    Optional<java.time.Duration> timeout = GrpcTimeout.parse(headers.get(GrpcTimeout.HEADER));
    if (timeout.isPresent()) {
      deadlineNanos = startNanos + timeout.get().toNanos();
      deadlineTimer = downstream.eventLoop().schedule(this::deadlineExceeded,
          Math.max(0, deadlineNanos - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
    }
    cluster = route.get().cluster();
    Optional<Endpoint> chosen = cluster.choose();
    if (chosen.isEmpty()) {
      answer(new ProxyError(chain.hop(), "service '" + service + "'", ProxyError.UNAVAILABLE, "no_endpoints",
          "no endpoints available"));
      return;
    }
    connect(chosen.get(), frame);
  }

  private void connect(Endpoint target, Http2HeadersFrame firstFrame) {
    endpoint = target;
    Future<Http2StreamChannel> opening = target.openStream(new UpstreamHandler(), downstream.eventLoop());
    opening.addListener(done -> downstream.eventLoop().execute(() -> upstreamOpened(opening, firstFrame)));
  }

  private void upstreamOpened(Future<Http2StreamChannel> opening, Http2HeadersFrame firstFrame) {
    if (!opening.isSuccess()) {
      cluster.onFailure(endpoint);
      unreachable.add(endpoint);
      Optional<Endpoint> next = unreachable.size() < MAX_CONNECT_ATTEMPTS && downstream.isActive() && !completed.get()
          ? cluster.choose(unreachable) : Optional.empty();
      if (next.isPresent()) {
        endpoint.requestFinished();
        connect(next.get(), firstFrame);
        return;
      }
      answer(new ProxyError(chain.hop(), "service '" + request.service() + "' endpoint " + endpoint.address(),
          ProxyError.UNAVAILABLE, "connect_failed", "cannot connect: " + opening.cause().getMessage()
          + (unreachable.size() > 1 ? " (tried " + unreachable.size() + " endpoints)" : "")));
      return;
    }
    Http2StreamChannel up = opening.getNow();
    if (!downstream.isActive() || completed.get()) {
      up.close();
      return;
    }
    upstream = up;
    upstreamOpenedNanos = System.nanoTime();
    up.write(new DefaultHttp2HeadersFrame(withRemainingTime(firstFrame.headers()), firstFrame.isEndStream()));
    while (!beforeUpstream.isEmpty()) {
      forwardToUpstream(beforeUpstream.poll(), false);
    }
    up.flush();
    downstream.read();
  }

  private void forwardToUpstream(Object msg, boolean flush) {
    Http2StreamChannel up = upstream;
    Object copy = restamp(msg);
    if (copy == null) {
      return;
    }
    if (copy instanceof Http2ResetFrame) {
      up.close();
      return;
    }
    (flush ? up.writeAndFlush(copy) : up.write(copy)).addListener((ChannelFutureListener) written -> {
      if (written.isSuccess()) {
        downstream.read();
      } else {
        downstream.close();
      }
    });
  }

  private void releasePending() {
    while (!beforeUpstream.isEmpty()) {
      ReferenceCountUtil.release(beforeUpstream.poll());
    }
  }

  /** A frame read on one stream, re-made for the other (a frame is bound to its stream); bodies are shared. */
  private static Object restamp(Object msg) {
    if (msg instanceof Http2DataFrame data) {
      return new DefaultHttp2DataFrame(data.content(), data.isEndStream(), data.padding());
    }
    if (msg instanceof Http2HeadersFrame headers) {
      return new DefaultHttp2HeadersFrame(headers.headers(), headers.isEndStream(), headers.padding());
    }
    if (msg instanceof Http2ResetFrame reset) {
      return new DefaultHttp2ResetFrame(reset.errorCode());
    }
    ReferenceCountUtil.release(msg);
    return null;
  }

  /** The next hop gets only the time that is left, so the deadline stays absolute across hops. */
  private Http2Headers withRemainingTime(Http2Headers headers) {
    if (deadlineNanos == 0) {
      return headers;
    }
    long remaining = deadlineNanos - System.nanoTime();
    return headers.set(GrpcTimeout.HEADER, GrpcTimeout.format(java.time.Duration.ofNanos(Math.max(1, remaining))));
  }

  /** The caller's deadline passed before the response ended: cancel upstream and answer for it. */
  private void deadlineExceeded() {
    if (completed.get() || responseEnded) {
      return;
    }
    Http2StreamChannel up = upstream;
    if (up != null) {
      up.close(); // RST_STREAM(CANCEL): the backend sees the call cancelled
    }
    long allowedMillis = (deadlineNanos - startNanos) / 1_000_000;
    answer(new ProxyError(chain.hop(), "service '" + request.service() + "'"
        + (endpoint == null ? "" : " endpoint " + endpoint.address()), ProxyError.DEADLINE_EXCEEDED,
        "deadline_exceeded", "deadline of " + allowedMillis + " ms exceeded before the response ended"));
  }

  private void answer(ProxyError error) {
    releasePending();
    if (!responseStarted) {
      responseStarted = true;
      responseEnded = true;
      downstream.writeAndFlush(new DefaultHttp2HeadersFrame(error.toTrailersOnly(), true));
    } else {
      downstream.writeAndFlush(new DefaultHttp2ResetFrame(io.netty.handler.codec.http2.Http2Error.CANCEL));
    }
    grpcStatus = STATUS_NAMES[error.grpcStatus()];
    complete(grpcStatus, true);
  }

  private void complete(String code, boolean proxyGenerated) {
    if (request == null || !completed.compareAndSet(false, true)) {
      return;
    }
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
    }
    if (endpoint != null) {
      endpoint.requestFinished();
    }
    Outcome outcome = new Outcome(code == null ? "UNKNOWN" : code,
        endpoint == null ? null : endpoint.address().toString(), System.nanoTime() - startNanos, proxyGenerated);
    for (StreamFilter filter : chain.filters()) {
      filter.onComplete(request, outcome);
    }
  }

  private static String statusName(CharSequence grpcStatus) {
    try {
      int code = Integer.parseInt(grpcStatus.toString());
      return code >= 0 && code < STATUS_NAMES.length ? STATUS_NAMES[code] : "UNKNOWN";
    } catch (NumberFormatException e) {
      return "UNKNOWN";
    }
  }

  /** The upstream side of the same exchange: copies responses back to the caller. */
  private final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private long responseHeadersNanos;
    private int responseDataFrames;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2HeadersFrame headers) {
        if (!responseStarted) {
          responseStarted = true;
          responseHeadersNanos = System.nanoTime();
          cluster.onSuccess(endpoint);
        }
        CharSequence status = headers.headers().get("grpc-status");
        if (status != null) {
          grpcStatus = statusName(status);
        } else if (headers.isEndStream()) {
          grpcStatus = "UNKNOWN";
        }
      }
      if (msg instanceof Http2DataFrame) {
        responseDataFrames++;
      }
      boolean ends = msg instanceof Http2StreamFrame frame && isEndStream(frame);
      if (ends && responseDataFrames <= 1) {
        // a unary exchange: time to its response headers is a fair latency sample. A stream's headers
        // may wait for its first message (grpc-java sends them lazily), which says nothing of the endpoint.
        endpoint.recordLatency(responseHeadersNanos - upstreamOpenedNanos); // connect time is not the endpoint's latency
      }
      Object copy = restamp(msg);
      if (copy == null) {
        ctx.read();
        return;
      }
      if (ends || copy instanceof Http2ResetFrame) {
        responseEnded = !(copy instanceof Http2ResetFrame);
      }
      Channel up = ctx.channel();
      downstream.writeAndFlush(copy).addListener((ChannelFutureListener) written -> {
        if (written.isSuccess()) {
          up.read();
        } else {
          up.close();
        }
      });
      if (copy instanceof Http2ResetFrame) {
        complete("CANCELLED", false);
      } else if (ends) {
        complete(grpcStatus, false);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!responseEnded && !completed.get()) {
        cluster.onFailure(endpoint);
        downstream.eventLoop().execute(() -> answer(new ProxyError(chain.hop(),
            "service '" + request.service() + "' endpoint " + endpoint.address(), ProxyError.UNAVAILABLE,
            "upstream_reset", "upstream closed the stream before the response ended")));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    private boolean isEndStream(Http2StreamFrame frame) {
      return (frame instanceof Http2HeadersFrame h && h.isEndStream())
          || (frame instanceof Http2DataFrame d && d.isEndStream());
    }
  }
}
