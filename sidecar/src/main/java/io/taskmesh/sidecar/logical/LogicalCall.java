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
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.concrete.Backends;
import io.taskmesh.sidecar.endpoint.EndpointAttempt;
import io.taskmesh.sidecar.endpoint.Frames;
import io.taskmesh.sidecar.filter.Outcome;
import io.taskmesh.sidecar.filter.Outcome.Fault;
import io.taskmesh.sidecar.filter.RequestInfo;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.GrpcTimeout;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.route.RouteRules;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
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
  private static final IntUnaryOperator RANDOM = bound -> ThreadLocalRandom.current().nextInt(bound);
  static final Duration UNKNOWN_SHAPE_BODY_WAIT = Duration.ofSeconds(1);
  /*
   * Header names looked up or set on every request, as AsciiString: Netty's headers hash and compare an AsciiString
   * by its bytes, with its hash cached, and walk a String's characters one by one each time.
   */
  private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  private static final AsciiString PREVIOUS_ATTEMPTS = AsciiString.cached("grpc-previous-rpc-attempts");

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
  /** A sidecar's method catalog asking: not the app's traffic, so it takes no turn of the balancer either. */
  private boolean catalogQuery;
  /** The proto says so (learnt by reflection); unknown methods are neither. */
  private boolean unary;
  /** Safe to send twice: the proto marks it IDEMPOTENT or NO_SIDE_EFFECTS, or the retry policy lists it. */
  private boolean idempotent;
  /** The route timeout of a unary call without deadline: the matched rule's, else the service's (zero: none). */
  private Duration routeTimeout;
  private Deadline deadline;
  private ScheduledFuture<?> deadlineTimer;
  private Cluster cluster;
  private EndpointAttempt attempt;
  /** The current try's; cancelled when the request completes, so finished requests leave the timer queue. */
  private ScheduledFuture<?> perTryTimer;
  private Retrying retrying;
  /**
   * A failed try's verdict, held while the rest of the request body is still on its way: the far side may
   * answer (its app refused the connection, say) before the caller has sent all of a request, and only the
   * whole request can be sent again. Run once the body has ended, or can no longer be kept.
   */
  private Runnable awaitingBody;
  /** Bounds {@link #awaitingBody} for a call whose shape is not learnt yet (it may be a stream). */
  private ScheduledFuture<?> bodyWaitTimer;
  /** The method's shape was learnt (else {@link #unary} is only a guess). */
  private boolean shapeKnown;
  private boolean responseStarted;
  private boolean responseEnded;
  private String grpcStatus;
  private boolean completed;
  /*
   * What each frame and the deadline need, made once per call as plain objects: a capturing lambda or method
   * reference costs an allocation each time it is made and, while the code is C1-compiled (the first tier, before
   * C2 takes a hot method over), a method-handle call.
   */
  private final Runnable readNextFromCaller = new Runnable() {
    @Override
    public void run() {
      downstream.readNext();
    }
  };
  private final ChannelFutureListener closeCallerIfNotWritten = new ChannelFutureListener() {
    @Override
    public void operationComplete(ChannelFuture written) {
      if (!written.isSuccess()) {
        downstream.close();
      }
    }
  };
  private final Runnable onDeadline = new Runnable() {
    @Override
    public void run() {
      deadlineExceeded();
    }
  };
  private final BooleanSupplier requestIsMalformed = new BooleanSupplier() {
    @Override
    public boolean getAsBoolean() {
      return RequestBodies.isMalformedProtobuf(requestHeaders.get("content-type"), retrying.body());
    }
  };

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
    // if/else, not Optional.map: a lambda or method reference is a method-handle call each time in C1-compiled code
    String service = route.isPresent() ? route.get().service() : chain.router().describeTarget(requestHeaders);
    request = new RequestInfo(chain.direction(), chain.hop(), service, method, startNanos, requestHeaders,
        chain.policies().forService(service), downstream.peer());
    if (route.isEmpty()) {
      answer(CallErrors.noRoute(request), Fault.NONE);
      return;
    }
    RouteRules.Rule rule = request.policy().routes().match(method, requestHeaders);
    Backends backends = rule == null ? route.get().backends() : rule.backends();
    routeTimeout = rule == null || rule.timeout() == null ? request.policy().timeout() : rule.timeout();
    if (rule != null) {
      rule.modify(requestHeaders);
    }
    catalogQuery = MethodCatalog.isCatalogQuery(requestHeaders);
    filters = catalogQuery ? List.of() : chain.filters();
    for (StreamFilter filter : filters) {
      Optional<ProxyError> refused = filter.onRequest(request);
      if (refused.isPresent()) {
        answer(refused.get(), Fault.CALLER);
        return;
      }
    }
    Optional<MethodCatalog.MethodShape> shape = chain.methods().shape(service, method);
    shapeKnown = shape.isPresent();
    unary = shapeKnown && shape.get().unary();
    idempotent = (shapeKnown && shape.get().idempotent())
        || request.policy().retries().idempotentMethods().contains(method);
    deadline = Deadline.of(requestHeaders.get(GrpcTimeout.HEADER), unary, routeTimeout, startNanos);
    if (deadline != null) {
      deadlineTimer = downstream.eventLoop().schedule(onDeadline, Math.max(0, deadline.remainingNanos()),
          TimeUnit.NANOSECONDS);
    }
    retrying = new Retrying(request.policy().retries(), chain.retries(), service, requestEndsWithHeaders);
    backends.choose(RANDOM).resolve(new Consumer<>() { // a plain object, not a lambda (see readNextFromCaller)
      @Override
      public void accept(Optional<Cluster> found) {
        if (downstream.eventLoop().inEventLoop()) {
          firstTry(found);
        } else {
          downstream.eventLoop().execute(() -> firstTry(found));
        }
      }
    });
  }

  private void firstTry(Optional<Cluster> found) {
    if (completed) {
      return;
    }
    if (found.isEmpty()) {
      answer(CallErrors.noRoute(request), Fault.NONE); // resolved later (on-demand discovery) to nothing
      return;
    }
    Optional<Endpoint> chosen = catalogQuery ? found.get().anyHealthy() : found.get().choose();
    if (chosen.isEmpty()) {
      // nothing was sent: counting it would hold the circuit open past the moment the first pod is ready
      answer(CallErrors.noEndpoints(request), Fault.NONE);
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
      downstream.readNext(); // dropped, and its bytes go back to the caller's window: nothing holds it any more
      return;
    }
    retrying.keep(msg);
    if (awaitingBody != null) {
      ReferenceCountUtil.release(msg); // the replay buffer holds what a retry sends; the failed try needs nothing
      if (retrying.bodyStillComing()) {
        downstream.readNext();
      } else {
        Runnable decide = awaitingBody;
        awaitingBody = null;
        cancelBodyWait();
        decide.run();
      }
      return;
    }
    if (attempt != null && attempt.isOpen()) {
      if (forward(msg, true)) {
        attempt.whenWritable(readNextFromCaller);
      }
    } else {
      pending.add(msg);
    }
  }

  /** Writes a request frame to the try's stream; false when it ended the try instead (the caller reset). */
  private boolean forward(Object msg, boolean flush) {
    Object copy = Frames.restamp(msg);
    if (copy == null) {
      return true;
    }
    if (copy instanceof Http2ResetFrame) {
      attempt.cancel();
      return false;
    }
    (flush ? attempt.writeAndFlush(copy) : attempt.write(copy)).addListener(closeCallerIfNotWritten);
    return true;
  }

  /**
   * The caller's stream closed: the try's stream is cancelled upstream unless it is over already (it may be only
   * half over: a response that ended before the request did leaves the upstream waiting for the rest).
   */
  public void onCallerGone() {
    releasePending();
    releaseReplay();
    if (attempt != null) {
      attempt.cancel();
    }
    if (!responseEnded) {
      complete("CANCELLED", false, Fault.CALLER);
    }
  }

  @Override
  public boolean isOver() {
    return completed || !downstream.isActive();
  }

  @Override
  public void opened(EndpointAttempt opened) {
    opened.write(new DefaultHttp2HeadersFrame(headersForThisTry(), requestEndsWithHeaders));
    List<Http2DataFrame> replayed = retrying.retriesDone() > 0 ? retrying.replayFrames() : null;
    if (replayed != null) {
      releasePending(); // all of it is in the replay buffer, which is sent whole
      for (Http2DataFrame frame : replayed) {
        opened.write(frame);
      }
    }
    while (!pending.isEmpty()) {
      forward(pending.poll(), false);
    }
    opened.flush();
    opened.whenWritable(readNextFromCaller);
    schedulePerTryTimeout(opened);
  }

  /** The caller's headers with the time left; a retry's are a copy that says how many tries came before. */
  private Http2Headers headersForThisTry() {
    Http2Headers headers = requestHeaders;
    if (retrying.retriesDone() > 0) {
      headers = new DefaultHttp2Headers().add(requestHeaders);
      headers.set(PREVIOUS_ATTEMPTS, Integer.toString(retrying.retriesDone()));
    }
    if (deadline != null) { // the next hop gets only the time that is left, so the deadline stays absolute
      headers.set(GrpcTimeout.HEADER, GrpcTimeout.format(Duration.ofNanos(Math.max(1, deadline.remainingNanos()))));
    }
    return headers;
  }

  /**
   * A unary try of an idempotent method that has no answer within the per-try timeout is abandoned (the
   * upstream sees it cancelled) and tried again when attempts, budget and deadline allow. Any other method
   * has no per-try timer: the upstream may act on it however late, and it cannot be sent twice, so cutting
   * it short would only turn a slow success (a cold pod just after a rollout) into a failure whose outcome
   * the caller cannot know. The route timeout and the caller's deadline still bound it.
   */
  private void schedulePerTryTimeout(EndpointAttempt thisTry) {
    Duration perTry = request.policy().retries().perTryTimeout();
    if (!unary || !idempotent || request.policy().retries().attempts() < 2 || perTry.isZero()) {
      return;
    }
    perTryTimer = downstream.eventLoop().schedule(new PerTryTimeout(thisTry, perTry), perTry.toNanos(),
        TimeUnit.NANOSECONDS);
  }

  /** The per-try timer's task: a plain object, not a lambda (see {@link #readNextFromCaller}). */
  private final class PerTryTimeout implements Runnable {
    private final EndpointAttempt thisTry;
    private final Duration perTry;

    PerTryTimeout(EndpointAttempt thisTry, Duration perTry) {
      this.thisTry = thisTry;
      this.perTry = perTry;
    }

    @Override
    public void run() {
      if (thisTry != attempt || thisTry.isPassing() || completed) {
        return;
      }
      thisTry.timedOut();
      if (mayRetry("DEADLINE_EXCEEDED", true)) {
        retry(thisTry);
        return;
      }
      thisTry.abandon();
      answer(CallErrors.perTryTimeout(request, thisTry.endpoint(), perTry.toMillis(), retrying.retriesDone() + 1),
          Fault.UPSTREAM);
    }
  }

  @Override
  public void connectFailed(EndpointAttempt failed, Throwable cause, int endpointsTried) {
    answer(CallErrors.connectFailed(request, failed.endpoint(), cause, endpointsTried), Fault.UPSTREAM);
  }

  /** A trailers-only answer: retried when the policy allows, passed on otherwise. */
  @Override
  public void trailersOnly(EndpointAttempt answered, Http2HeadersFrame trailers) {
    String status = GrpcStatusNames.of(String.valueOf(trailers.headers().get(GRPC_STATUS)));
    CharSequence proxyError = trailers.headers().get(ProxyError.ERROR_HEADER);
    // the next hop's app may have acted on a request it reset: like a reset here, only idempotent ones go again
    boolean mayHaveActed = proxyError != null && proxyError.toString().contains("reason=upstream_reset");
    if (!mayHaveActed || idempotent) {
      if (holdForBody(status, () -> trailersOnly(answered, trailers))) {
        return;
      }
      if (mayRetry(status, false)) {
        retry(answered);
        return;
      }
    }
    answered.pass(trailers);
  }

  @Override
  public ChannelFuture respond(Object frame, boolean endsStream) {
    if (frame instanceof Http2HeadersFrame headers) {
      responseStarted = true;
      CharSequence status = headers.headers().get(GRPC_STATUS);
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
      complete("CANCELLED", false, Fault.UPSTREAM); // the upstream reset a response it had begun
    } else if (endsStream) {
      complete(grpcStatus, false, faultOf(grpcStatus));
    }
    return written;
  }

  @Override
  public void whenCallerWritable(Runnable then) {
    downstream.whenWritable(then);
  }

  /** The upstream may have acted on a reset request: only one it refused unprocessed, or an idempotent method, goes again. */
  @Override
  public void reset(EndpointAttempt failed, boolean refused) {
    if (!responseStarted && (refused || idempotent)) {
      if (holdForBody("UNAVAILABLE", () -> reset(failed, refused))) {
        return;
      }
      if (mayRetry("UNAVAILABLE", false)) {
        retry(failed);
        return;
      }
    }
    answer(refused ? CallErrors.streamRefused(request, failed.endpoint())
        : CallErrors.upstreamReset(request, failed.endpoint()), Fault.UPSTREAM);
  }

  /**
   * Holds a failed try's verdict ({@code decide}) until the rest of the body has come, when only that stands in the
   * way of a retry. A unary call's body comes at once. A call whose shape is not learnt yet (the first calls to a
   * service) may be a stream whose caller waits for an answer before it ends, so it is held at most
   * {@link #UNKNOWN_SHAPE_BODY_WAIT}, then the verdict stands. A known stream is not held.
   */
  private boolean holdForBody(String status, Runnable decide) {
    if (!(unary || !shapeKnown) || !retrying.retryWaitsForBody(status)) {
      return false;
    }
    awaitingBody = decide;
    if (!unary) {
      bodyWaitTimer = downstream.eventLoop().schedule(() -> {
        if (awaitingBody == decide && !completed) {
          awaitingBody = null;
          retrying.release(); // the whole body cannot be sent again: the failed try's answer goes to the caller
          decide.run();
        }
      }, UNKNOWN_SHAPE_BODY_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    }
    return true;
  }

  private void cancelBodyWait() {
    if (bodyWaitTimer != null) {
      bodyWaitTimer.cancel(false);
      bodyWaitTimer = null;
    }
  }

  /** Nothing reached the caller yet and it is still there: the policy, budget and deadline decide. */
  private boolean mayRetry(String status, boolean anyStatus) {
    return !completed && downstream.isActive() && retrying.mayRetry(status, anyStatus, deadline);
  }

  /** Leaves the failed try's endpoint and, after a jittered backoff, sends the request to another one. */
  private void retry(EndpointAttempt failed) {
    tried.add(failed.endpoint());
    failed.finish();
    attempt = null;
    failed.abandon();
    int retry = retrying.retried();
    downstream.eventLoop().schedule(() -> {
      if (completed || !downstream.isActive()) {
        return;
      }
      Optional<Endpoint> next = cluster.choose(tried).or(cluster::choose); // back to a tried one when it is all there is
      if (next.isEmpty()) {
        answer(CallErrors.noEndpointsForRetry(request, retry), Fault.UPSTREAM);
        return;
      }
      tryOn(next.get());
    }, Retries.backoffNanos(retry), TimeUnit.NANOSECONDS);
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
    answer(CallErrors.deadlineExceeded(request, last, deadline),
        Faults.upstreamHadItsTime(deadline, unary, routeTimeout) ? Fault.UPSTREAM : Fault.CALLER);
  }

  private Fault faultOf(String status) {
    return Faults.ofAnswer(status, Faults.upstreamHadItsTime(deadline, unary, routeTimeout), requestIsMalformed);
  }

  /** The one way the proxy answers a request itself: trailers-only, or a reset once the response has begun. */
  private void answer(ProxyError error, Fault fault) {
    releasePending();
    if (!responseStarted) {
      responseStarted = true;
      responseEnded = true;
      downstream.send(new DefaultHttp2HeadersFrame(error.toTrailersOnly(), true));
    } else {
      downstream.send(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
    }
    grpcStatus = GrpcStatusNames.of(error.grpcStatus());
    complete(grpcStatus, true, fault);
  }

  private void complete(String code, boolean proxyGenerated, Fault fault) {
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
    cancelBodyWait();
    if (attempt != null) {
      attempt.finish();
    }
    Outcome outcome = new Outcome(code == null ? "UNKNOWN" : code,
        attempt == null ? null : attempt.endpoint().addressText(), System.nanoTime() - startNanos,
        proxyGenerated, fault);
    for (StreamFilter filter : filters) {
      filter.onComplete(request, outcome);
    }
  }

  private void releaseReplay() {
    if (retrying != null) {
      retrying.release();
    }
  }

  private void releasePending() {
    while (!pending.isEmpty()) {
      ReferenceCountUtil.release(pending.poll());
    }
  }

}
