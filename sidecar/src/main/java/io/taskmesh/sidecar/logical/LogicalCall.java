package io.taskmesh.sidecar.logical;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.endpoint.EndpointAttempt;
import io.taskmesh.sidecar.endpoint.Frames;
import io.taskmesh.sidecar.filter.Outcome;
import io.taskmesh.sidecar.filter.RequestInfo;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.GrpcTimeout;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Route;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;

/**
 * One request, as the service its caller named (linkerd's logical layer): routed once, its policy taken
 * once from the config in force, passed through the chain's filters, held to its deadline (or the route
 * timeout), and sent to a backend the route chooses, one {@link EndpointAttempt} per try. A try that
 * fails before anything reached the caller is tried again when the policy, the retry budget and the
 * deadline allow; the request body is kept for that in a {@link ReplayBuffer}. Every answer the proxy
 * makes itself leaves through {@link #answer}. Runs on the caller's stream's event loop.
 */
public final class LogicalCall implements EndpointAttempt.Listener {
  /** A retry is not started when less than this is left of the caller's deadline. */
  private static final long MIN_TIME_LEFT_FOR_RETRY_NANOS = 5_000_000;
  private static final IntUnaryOperator RANDOM = bound -> ThreadLocalRandom.current().nextInt(bound);

  private final ProxyChain chain;
  private final Downstream downstream;
  private final long startNanos;
  private final Http2Headers requestHeaders;
  private final boolean requestEndsWithHeaders;
  /** Request frames that arrived while no try had its stream open. */
  private final Queue<Object> pending = new ArrayDeque<>();
  /** Endpoints this request failed on (could not connect, or a try failed): later tries avoid them. */
  private final Set<Endpoint> tried = new HashSet<>();
  private RequestInfo request;
  /** The chain's filters; none for another sidecar asking the app's methods (it is not the app's traffic). */
  private List<StreamFilter> filters = List.of();
  /** The proto says so (learnt by reflection); unknown methods are neither. */
  private boolean unary;
  private boolean idempotent;
  private Deadline deadline;
  private ScheduledFuture<?> deadlineTimer;
  private Cluster cluster;
  private EndpointAttempt attempt;
  /** The current try's; cancelled when the request completes, so finished requests leave the timer queue. */
  private ScheduledFuture<?> perTryTimer;
  /** The request body kept for a retry; null when the request will not be retried. */
  private ReplayBuffer replay;
  private int retriesDone;
  private boolean responseStarted;
  private boolean responseEnded;
  private String grpcStatus;
  private boolean completed;

  public LogicalCall(ProxyChain chain, Downstream downstream, Http2HeadersFrame first) {
    this.chain = chain;
    this.downstream = downstream;
    this.startNanos = System.nanoTime();
    this.requestHeaders = first.headers();
    this.requestEndsWithHeaders = first.isEndStream();
  }

  /** Routes the request, runs the filters, starts its timers and its first try. */
  public void start() {
    String method = requestHeaders.path() == null ? "" : requestHeaders.path().toString();
    Optional<Route> route = chain.router().route(requestHeaders);
    String service = route.map(Route::service).orElseGet(() -> chain.router().describeTarget(requestHeaders));
    request = new RequestInfo(chain.direction(), chain.hop(), service, method, startNanos, requestHeaders,
        chain.policies().forService(service));
    if (route.isEmpty()) {
      answer(CallErrors.noRoute(request));
      return;
    }
    filters = MethodCatalog.isCatalogQuery(requestHeaders) ? List.of() : chain.filters();
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
    deadline = Deadline.of(requestHeaders.get(GrpcTimeout.HEADER), unary, request.policy().timeout(), startNanos);
    if (deadline != null) {
      deadlineTimer = downstream.eventLoop().schedule(this::deadlineExceeded,
          Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS);
    }
    if (request.policy().retries().attempts() > 1) {
      replay = new ReplayBuffer();
      if (requestEndsWithHeaders) {
        replay.markEnded();
      }
      chain.retries().recordRequest(service, request.policy().retries());
    }
    route.get().backends().choose(RANDOM).resolve(found -> {
      if (downstream.eventLoop().inEventLoop()) {
        firstTry(found);
      } else {
        downstream.eventLoop().execute(() -> firstTry(found));
      }
    });
  }

  private void firstTry(Optional<Cluster> found) {
    if (completed) {
      return;
    }
    Optional<Endpoint> chosen = found.flatMap(Cluster::choose);
    if (chosen.isEmpty()) {
      answer(CallErrors.noEndpoints(request));
      return;
    }
    cluster = found.get();
    tryOn(chosen.get());
  }

  private void tryOn(Endpoint endpoint) {
    attempt = new EndpointAttempt(cluster, tried, downstream.eventLoop(), this);
    attempt.connect(endpoint);
  }

  /** A frame of the request after its headers, from the caller. */
  public void onRequestFrame(Object msg) {
    if (completed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    keepForReplay(msg);
    if (attempt != null && attempt.isOpen()) {
      forward(msg, true);
    } else {
      pending.add(msg);
    }
  }

  /** Body frames are kept while the request may still be retried; anything else ends that possibility. */
  private void keepForReplay(Object msg) {
    if (replay != null && !(msg instanceof Http2DataFrame data && replay.add(data))) {
      releaseReplay();
    }
  }

  private void forward(Object msg, boolean flush) {
    Object copy = Frames.restamp(msg);
    if (copy == null) {
      return;
    }
    if (copy instanceof Http2ResetFrame) {
      attempt.cancel();
      return;
    }
    (flush ? attempt.writeAndFlush(copy) : attempt.write(copy)).addListener((ChannelFutureListener) written -> {
      if (written.isSuccess()) {
        downstream.readNext();
      } else {
        downstream.close();
      }
    });
  }

  /** The caller's stream closed: an unfinished try is cancelled upstream. */
  public void onCallerGone() {
    releasePending();
    releaseReplay();
    if (attempt != null && !responseEnded) {
      attempt.cancel();
    }
    complete(responseEnded ? grpcStatus : "CANCELLED", false);
  }

  @Override
  public boolean isOver() {
    return completed || !downstream.isActive();
  }

  @Override
  public void opened(EndpointAttempt opened) {
    opened.write(new DefaultHttp2HeadersFrame(headersForThisTry(), requestEndsWithHeaders));
    if (retriesDone > 0 && replay != null) {
      releasePending(); // all of it is in the replay buffer, which is sent whole
      for (Http2DataFrame frame : replay.frames()) {
        opened.write(frame);
      }
    }
    while (!pending.isEmpty()) {
      forward(pending.poll(), false);
    }
    opened.flush();
    downstream.readNext();
    schedulePerTryTimeout(opened);
  }

  /** The caller's headers with the time left; a retry's are a copy that says how many tries came before. */
  private Http2Headers headersForThisTry() {
    Http2Headers headers = requestHeaders;
    if (retriesDone > 0) {
      headers = new DefaultHttp2Headers().add(requestHeaders);
      headers.set("grpc-previous-rpc-attempts", Integer.toString(retriesDone));
    }
    if (deadline != null) { // the next hop gets only the time that is left, so the deadline stays absolute
      headers.set(GrpcTimeout.HEADER, GrpcTimeout.format(Duration.ofNanos(Math.max(1, deadline.remainingNanos()))));
    }
    return headers;
  }

  /**
   * A unary try that has no answer within the per-try timeout is abandoned (the upstream sees it
   * cancelled) and retried when attempts, budget and deadline allow, whatever its status would have been.
   */
  private void schedulePerTryTimeout(EndpointAttempt thisTry) {
    Duration perTry = request.policy().retries().perTryTimeout();
    if (!unary || request.policy().retries().attempts() < 2 || perTry.isZero()) {
      return;
    }
    perTryTimer = downstream.eventLoop().schedule(() -> {
      if (thisTry != attempt || thisTry.isPassing() || completed) {
        return;
      }
      thisTry.timedOut();
      if (mayRetry("DEADLINE_EXCEEDED", true)) {
        retry(thisTry);
        return;
      }
      thisTry.abandon();
      answer(CallErrors.perTryTimeout(request, thisTry.endpoint(), perTry.toMillis(), retriesDone + 1));
    }, perTry.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void connectFailed(EndpointAttempt failed, Throwable cause, int endpointsTried) {
    answer(CallErrors.connectFailed(request, failed.endpoint(), cause, endpointsTried));
  }

  /** A trailers-only answer: retried when the policy allows, passed on otherwise. */
  @Override
  public void trailersOnly(EndpointAttempt answered, Http2HeadersFrame trailers) {
    String status = GrpcStatusNames.of(String.valueOf(trailers.headers().get("grpc-status")));
    CharSequence proxyError = trailers.headers().get(ProxyError.ERROR_HEADER);
    // the next hop's app may have acted on a request it reset: like a reset here, only idempotent ones go again
    boolean mayHaveActed = proxyError != null && proxyError.toString().contains("reason=upstream_reset");
    if ((!mayHaveActed || idempotent) && mayRetry(status, false)) {
      retry(answered);
      return;
    }
    answered.pass(trailers);
  }

  @Override
  public ChannelFuture respond(Object frame, boolean endsStream) {
    if (frame instanceof Http2HeadersFrame headers) {
      responseStarted = true;
      CharSequence status = headers.headers().get("grpc-status");
      if (status != null) {
        grpcStatus = GrpcStatusNames.of(status);
      } else if (headers.isEndStream()) {
        grpcStatus = "UNKNOWN";
      }
    }
    boolean reset = frame instanceof Http2ResetFrame;
    if (endsStream || reset) {
      responseEnded = !reset;
    }
    ChannelFuture written = downstream.send(frame);
    if (reset) {
      complete("CANCELLED", false);
    } else if (endsStream) {
      complete(grpcStatus, false);
    }
    return written;
  }

  /** The upstream may have acted on a reset request: only one it refused unprocessed, or an idempotent method, goes again. */
  @Override
  public void reset(EndpointAttempt failed, boolean refused) {
    if (!responseStarted && (refused || idempotent) && mayRetry("UNAVAILABLE", false)) {
      retry(failed);
      return;
    }
    answer(refused ? CallErrors.streamRefused(request, failed.endpoint())
        : CallErrors.upstreamReset(request, failed.endpoint()));
  }

  /**
   * Nothing reached the caller yet, so the request (kept whole in the replay buffer) may go to another
   * endpoint, within the policy's attempts and statuses, the service's retry budget and the deadline.
   */
  private boolean mayRetry(String status, boolean whateverTheStatus) {
    if (replay == null || !replay.replayable() || completed || !downstream.isActive()) {
      return false;
    }
    if (retriesDone + 1 >= request.policy().retries().attempts()
        || !(whateverTheStatus || request.policy().retries().retryOn().contains(status))) {
      return false;
    }
    if (deadline != null && deadline.remainingNanos() < MIN_TIME_LEFT_FOR_RETRY_NANOS) {
      return false;
    }
    return chain.retries().tryAcquire(request.service(), request.policy().retries());
  }

  /** Leaves the failed try's endpoint and, after a jittered backoff, sends the request to another one. */
  private void retry(EndpointAttempt failed) {
    tried.add(failed.endpoint());
    failed.finish();
    attempt = null;
    failed.abandon();
    retriesDone++;
    downstream.eventLoop().schedule(() -> {
      if (completed || !downstream.isActive()) {
        return;
      }
      Optional<Endpoint> next = cluster.choose(tried).or(cluster::choose); // back to a tried one when it is all there is
      if (next.isEmpty()) {
        answer(CallErrors.noEndpointsForRetry(request, retriesDone));
        return;
      }
      tryOn(next.get());
    }, Retries.backoffNanos(retriesDone), TimeUnit.NANOSECONDS);
  }

  /** The deadline passed before the response ended: cancel upstream and answer for it. */
  private void deadlineExceeded() {
    if (completed || responseEnded) {
      return;
    }
    Endpoint last = null;
    if (attempt != null) {
      attempt.cancel(); // RST_STREAM(CANCEL): the backend sees the call cancelled
      last = attempt.endpoint();
    }
    answer(CallErrors.deadlineExceeded(request, last, deadline));
  }

  /** The one way the proxy answers a request itself: trailers-only, or a reset once the response has begun. */
  private void answer(ProxyError error) {
    releasePending();
    if (!responseStarted) {
      responseStarted = true;
      responseEnded = true;
      downstream.send(new DefaultHttp2HeadersFrame(error.toTrailersOnly(), true));
    } else {
      downstream.send(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
    }
    grpcStatus = GrpcStatusNames.of(error.grpcStatus());
    complete(grpcStatus, true);
  }

  private void complete(String code, boolean proxyGenerated) {
    if (request == null || completed) {
      return;
    }
    completed = true;
    releaseReplay();
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
    }
    if (perTryTimer != null) {
      perTryTimer.cancel(false);
    }
    if (attempt != null) {
      attempt.finish();
    }
    Outcome outcome = new Outcome(code == null ? "UNKNOWN" : code,
        attempt == null ? null : attempt.endpoint().address().toString(), System.nanoTime() - startNanos,
        proxyGenerated);
    for (StreamFilter filter : filters) {
      filter.onComplete(request, outcome);
    }
  }

  private void releasePending() {
    while (!pending.isEmpty()) {
      ReferenceCountUtil.release(pending.poll());
    }
  }

  private void releaseReplay() {
    if (replay != null) {
      replay.release();
      replay = null;
    }
  }
}
