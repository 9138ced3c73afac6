package io.taskmesh.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
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
import io.taskmesh.config.RetryPolicy;
import io.taskmesh.sidecar.route.GrpcTimeout;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.cluster.Cluster;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
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
  /** A retry is not started when less than this is left of the caller's deadline. */
  private static final long MIN_TIME_LEFT_FOR_RETRY_NANOS = 5_000_000;

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
  /** The current try's; cancelled when the exchange completes so finished requests do not wait in the timer queue. */
  private volatile io.netty.util.concurrent.ScheduledFuture<?> perTryTimer;
  private volatile Endpoint endpoint;
  private Cluster cluster;
  private Http2Headers requestHeaders;
  private boolean requestEndsWithHeaders;
  /** Endpoints this request failed on (could not connect, or a try failed): later tries avoid them. */
  private final Set<Endpoint> tried = new HashSet<>();
  private int connectFailures;
  /** The service's retry policy as it was when the request started; one policy for all its tries. */
  private RetryPolicy retryPolicy;
  /** The request body kept for a retry; null when the request will not be retried. */
  private ReplayBuffer replay;
  private int retriesDone;
  /** Counts every stream opened for this request, so events of an abandoned try are ignored. */
  private volatile int currentTry;
  private boolean started;
  /** The chain's filters; none for another sidecar asking the app's methods (it is not the app's traffic). */
  private List<StreamFilter> filters = List.of();
  /** The proto says so (learnt by reflection); unknown methods are neither. */
  private boolean unary;
  private boolean idempotent;
  private boolean routeTimeoutApplied;

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
    } else {
      keepForReplay(msg);
      if (upstream == null) {
        beforeUpstream.add(msg);
      } else {
        forwardToUpstream(msg, true);
      }
    }
  }

  /** Body frames are kept while the request may still be retried; anything else ends that possibility. */
  private void keepForReplay(Object msg) {
    if (replay != null && !(msg instanceof Http2DataFrame data && replay.add(data))) {
      replay.release();
      replay = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    releasePending();
    releaseReplay();
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
    filters = MethodCatalog.isCatalogQuery(headers) ? List.of() : chain.filters();
    for (StreamFilter filter : filters) {
      Optional<ProxyError> refused = filter.onRequest(request);
      if (refused.isPresent()) {
        answer(refused.get());
        return;
      }
    }
    Optional<MethodCatalog.MethodShape> shape = chain.methods().shape(service, method);
    unary = shape.map(MethodCatalog.MethodShape::unary).orElse(false);
    idempotent = shape.map(MethodCatalog.MethodShape::idempotent).orElse(false);
    Optional<java.time.Duration> timeout = GrpcTimeout.parse(headers.get(GrpcTimeout.HEADER));
    if (timeout.isEmpty() && unary) { // a stream never gets the route timeout: it would cut a healthy watch
      timeout = Optional.of(chain.routeTimeouts().apply(service)).filter(t -> !t.isZero());
      routeTimeoutApplied = timeout.isPresent();
    }
    if (timeout.isPresent()) {
      deadlineNanos = startNanos + timeout.get().toNanos();
      deadlineTimer = downstream.eventLoop().schedule(this::deadlineExceeded,
          Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
    cluster = route.get().cluster();
    requestHeaders = headers;
    requestEndsWithHeaders = frame.isEndStream();
    retryPolicy = chain.retries().policy(service);
    if (retryPolicy.attempts() > 1) {
      replay = new ReplayBuffer();
      if (requestEndsWithHeaders) {
        replay.markEnded();
      }
      chain.retries().recordRequest(service);
    }
    Optional<Endpoint> chosen = cluster.choose();
    if (chosen.isEmpty()) {
      answer(new ProxyError(chain.hop(), "service '" + service + "'", ProxyError.UNAVAILABLE, "no_endpoints",
          "no endpoints available"));
      return;
    }
    connect(chosen.get());
  }

  private void connect(Endpoint target) {
    endpoint = target;
    int thisTry = ++currentTry;
    Future<Http2StreamChannel> opening = target.openStream(new UpstreamHandler(thisTry), downstream.eventLoop());
    opening.addListener(done -> downstream.eventLoop().execute(() -> upstreamOpened(opening, thisTry)));
  }

  private void upstreamOpened(Future<Http2StreamChannel> opening, int thisTry) {
    if (!opening.isSuccess()) {
      cluster.onFailure(endpoint);
      tried.add(endpoint);
      connectFailures++;
      Optional<Endpoint> next = connectFailures < MAX_CONNECT_ATTEMPTS && downstream.isActive() && !completed.get()
          ? cluster.choose(tried) : Optional.empty();
      if (next.isPresent()) {
        endpoint.requestFinished();
        connect(next.get());
        return;
      }
      answer(new ProxyError(chain.hop(), "service '" + request.service() + "' endpoint " + endpoint.address(),
          ProxyError.UNAVAILABLE, "connect_failed", "cannot connect: " + opening.cause().getMessage()
          + (connectFailures > 1 ? " (tried " + connectFailures + " endpoints)" : "")));
      return;
    }
    Http2StreamChannel up = opening.getNow();
    if (!downstream.isActive() || completed.get() || thisTry != currentTry) {
      up.close();
      return;
    }
    upstream = up;
    upstreamOpenedNanos = System.nanoTime();
    up.write(new DefaultHttp2HeadersFrame(headersForThisTry(), requestEndsWithHeaders));
    if (retriesDone > 0) {
      releasePending(); // all of it is in the replay buffer, which is sent whole
      for (Http2DataFrame frame : replay.frames()) {
        up.write(frame);
      }
    }
    while (!beforeUpstream.isEmpty()) {
      forwardToUpstream(beforeUpstream.poll(), false);
    }
    up.flush();
    downstream.read();
    schedulePerTryTimeout(thisTry, up);
  }

  /**
   * A unary try that has no answer within the per-try timeout is abandoned (the upstream sees it
   * cancelled) and retried when attempts, budget and deadline allow, whatever its status would have been.
   */
  private void schedulePerTryTimeout(int thisTry, Channel up) {
    if (!unary || retryPolicy.attempts() < 2 || retryPolicy.perTryTimeout().isZero()) {
      return;
    }
    perTryTimer = downstream.eventLoop().schedule(() -> {
      if (thisTry != currentTry || responseStarted || completed.get()) {
        return;
      }
      cluster.onFailure(endpoint);
      if (mayRetry("DEADLINE_EXCEEDED", true)) {
        retry(up);
        return;
      }
      Endpoint slow = endpoint;
      currentTry++;
      up.close();
      answer(new ProxyError(chain.hop(), "service '" + request.service() + "' endpoint " + slow.address(),
          ProxyError.DEADLINE_EXCEEDED, "per_try_timeout",
          "no answer within the per-try timeout of " + retryPolicy.perTryTimeout().toMillis() + " ms"
              + (retriesDone > 0 ? " (" + (retriesDone + 1) + " tries)" : "")));
    }, retryPolicy.perTryTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  /** The caller's headers with the time left; a retry's are a copy that says how many tries came before. */
  private Http2Headers headersForThisTry() {
    if (retriesDone == 0) {
      return withRemainingTime(requestHeaders);
    }
    Http2Headers copy = new DefaultHttp2Headers().add(requestHeaders);
    copy.set("grpc-previous-rpc-attempts", Integer.toString(retriesDone));
    return withRemainingTime(copy);
  }

  /**
   * A try ended with a trailers-only answer whose status the policy retries: nothing reached the caller
   * yet, so the request (kept whole in the replay buffer) may go to another endpoint, within the
   * policy's attempts, the service's retry budget and the caller's deadline.
   */
  private boolean mayRetry(String status, boolean whateverTheStatus) {
    if (replay == null || !replay.replayable() || completed.get() || !downstream.isActive()) {
      return false;
    }
    if (retriesDone + 1 >= retryPolicy.attempts() || !(whateverTheStatus || retryPolicy.retryOn().contains(status))) {
      return false;
    }
    if (deadlineNanos != 0 && deadlineNanos - System.nanoTime() < MIN_TIME_LEFT_FOR_RETRY_NANOS) {
      return false;
    }
    return chain.retries().tryAcquire(request.service());
  }

  /** Leaves the failed try's endpoint and, after a jittered backoff, sends the request to another one. */
  private void retry(Channel failedTry) {
    Endpoint failed = endpoint;
    tried.add(failed);
    failed.requestFinished();
    endpoint = null;
    upstream = null;
    currentTry++; // first: the failed try's own events are then ignored
    failedTry.close();
    retriesDone++;
    downstream.eventLoop().schedule(() -> {
      if (completed.get() || !downstream.isActive()) {
        return;
      }
      Optional<Endpoint> next = cluster.choose(tried).or(cluster::choose); // back to a tried one when it is all there is
      if (next.isEmpty()) {
        answer(new ProxyError(chain.hop(), "service '" + request.service() + "'", ProxyError.UNAVAILABLE,
            "no_endpoints", "no endpoints available for retry " + retriesDone));
        return;
      }
      connect(next.get());
    }, Retries.backoffNanos(retriesDone), TimeUnit.NANOSECONDS);
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

  private void releaseReplay() {
    if (replay != null) {
      replay.release();
      replay = null;
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
    Endpoint last = endpoint;
    answer(new ProxyError(chain.hop(), "service '" + request.service() + "'"
        + (last == null ? "" : " endpoint " + last.address()), ProxyError.DEADLINE_EXCEEDED,
        routeTimeoutApplied ? "route_timeout" : "deadline_exceeded", routeTimeoutApplied
            ? "route timeout of " + allowedMillis + " ms exceeded (the caller set no deadline)"
            : "deadline of " + allowedMillis + " ms exceeded before the response ended"));
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
    downstream.eventLoop().execute(this::releaseReplay);
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
    }
    io.netty.util.concurrent.ScheduledFuture<?> tryTimer = perTryTimer;
    if (tryTimer != null) {
      tryTimer.cancel(false);
    }
    if (endpoint != null) {
      endpoint.requestFinished();
    }
    Outcome outcome = new Outcome(code == null ? "UNKNOWN" : code,
        endpoint == null ? null : endpoint.address().toString(), System.nanoTime() - startNanos, proxyGenerated);
    for (StreamFilter filter : filters) {
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
    private final int tryNumber;
    private long responseHeadersNanos;
    private int responseDataFrames;
    /** The try's answer arrived whole; the stream closing after it is no reset. */
    private volatile boolean answered;
    /** The upstream said it never processed this stream (GOAWAY, REFUSED_STREAM): safe to send elsewhere. */
    private volatile boolean refusedByGoAway;

    UpstreamHandler(int tryNumber) {
      this.tryNumber = tryNumber;
    }

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
      if (tryNumber != currentTry) {
        ReferenceCountUtil.release(msg); // an abandoned try
        ctx.close();
        return;
      }
      if (!responseStarted && msg instanceof Http2ResetFrame reset) {
        // reset before any answer: REFUSED_STREAM (e.g. the app was already going away) means never processed
        refusedByGoAway |= reset.errorCode() == Http2Error.REFUSED_STREAM.code();
        ctx.close(); // handled as a reset by channelInactive
        return;
      }
      if (!responseStarted && msg instanceof Http2HeadersFrame headers && headers.isEndStream()) {
        answered = true;
        Channel up = ctx.channel();
        downstream.eventLoop().execute(() -> retryOrPass(headers, up));
        return;
      }
      pass(msg, ctx.channel());
    }

    /** A trailers-only answer: retried when the policy allows, passed on otherwise. */
    private void retryOrPass(Http2HeadersFrame trailersOnly, Channel up) {
      if (tryNumber != currentTry || completed.get()) {
        up.close();
        return;
      }
      String status = statusName(trailersOnly.headers().get("grpc-status"));
      CharSequence proxyError = trailersOnly.headers().get(ProxyError.ERROR_HEADER);
      if (proxyError != null) {
        cluster.onFailure(endpoint); // the next hop could not reach its app: this endpoint is unwell
      }
      // the next hop's app may have acted on a request it reset: like a reset here, only idempotent ones go again
      boolean mayHaveActed = proxyError != null && proxyError.toString().contains("reason=upstream_reset");
      if ((!mayHaveActed || idempotent) && mayRetry(status, false)) {
        retry(up);
        return;
      }
      pass(trailersOnly, up);
    }

    private void pass(Object msg, Channel up) {
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
        up.read();
        return;
      }
      if (ends || copy instanceof Http2ResetFrame) {
        responseEnded = !(copy instanceof Http2ResetFrame);
      }
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
      if (tryNumber == currentTry && !answered && !responseEnded && !completed.get()) {
        Endpoint failed = endpoint;
        cluster.onFailure(failed);
        Channel up = ctx.channel();
        downstream.eventLoop().execute(() -> {
          if (tryNumber != currentTry || completed.get()) {
            return;
          }
          // the upstream may have acted on a reset request: only one it refused unprocessed, or a method the
          // proto calls idempotent, goes again
          if (!responseStarted && (refusedByGoAway || idempotent) && mayRetry("UNAVAILABLE", false)) {
            retry(up);
            return;
          }
          answer(refusedByGoAway
              ? new ProxyError(chain.hop(), "service '" + request.service() + "' endpoint " + failed.address(),
                  ProxyError.UNAVAILABLE, "stream_refused", "upstream is going away and did not process the request")
              : new ProxyError(chain.hop(), "service '" + request.service() + "' endpoint " + failed.address(),
                  ProxyError.UNAVAILABLE, "upstream_reset", "upstream closed the stream before the response ended"));
        });
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof Http2GoAwayFrame goAway) {
        refusedByGoAway = true; // Netty tells only the streams above the GOAWAY's last stream id
        goAway.release();
        return;
      }
      ctx.fireUserEventTriggered(event);
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
