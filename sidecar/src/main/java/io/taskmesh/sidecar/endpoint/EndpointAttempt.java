package io.taskmesh.sidecar.endpoint;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.taskmesh.sidecar.codec.WhenWritable;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.cluster.UpstreamStream;
import io.taskmesh.sidecar.codec.ProxyError;
import java.util.Optional;
import java.util.Set;

/**
 * One try of a request on one endpoint: opens the upstream stream (on another endpoint of the cluster when
 * connecting fails — safe for every request, nothing was sent yet), tells the cluster's outlier detection
 * how the endpoint did, samples its latency, and hands the response to the {@link Listener}, the logical
 * call, which decides what a failure means for the request. Runs on the event loop of the caller's stream,
 * which also runs the upstream connection. Each frame read is passed on or released.
 */
public final class EndpointAttempt {
  /** Endpoints one try connects to at most before it gives up. */
  public static final int MAX_CONNECT_ATTEMPTS = 3;

  /** What the logical call hears from its current try. */
  public interface Listener {
    /** The request is over (answered, or its caller went away): a late event of this try changes nothing. */
    boolean isOver();

    /** The stream is open: send the request on it. */
    void opened(EndpointAttempt attempt);

    /** No endpoint could be reached ({@code endpointsTried} of them). */
    void connectFailed(EndpointAttempt attempt, Throwable cause, int endpointsTried);

    /** A trailers-only answer before anything was passed on: {@link #pass} it, or try again. */
    void trailersOnly(EndpointAttempt attempt, Http2HeadersFrame trailers);

    /** A response frame for the caller (already made for the caller's stream). */
    ChannelFuture respond(Object frame, boolean endsStream);

    /** Runs {@code then} now if the caller's stream takes more frames, else once it does. */
    void whenCallerWritable(Runnable then);

    /** The stream closed before its answer was complete; {@code refused}: the upstream said it never processed it. */
    void reset(EndpointAttempt attempt, boolean refused);
  }

  private final Cluster cluster;
  private final Set<Endpoint> tried;
  private final EventLoop loop;
  private final Listener call;
  private Endpoint endpoint;
  private UpstreamStream stream;
  private int connectFailures;
  private boolean abandoned;
  private boolean finished;
  private boolean passing;
  /** The answer arrived whole (trailers-only); the stream closing after it is no reset. */
  private boolean answered;
  /** The upstream said it never processed this stream (GOAWAY, REFUSED_STREAM): safe to send elsewhere. */
  private boolean refused;
  private long openedNanos;
  private long responseHeadersNanos;
  private int responseDataFrames;
  /** What waits for the upstream stream to become writable again (the caller's next read); at most one. */
  private final WhenWritable onWritable = new WhenWritable();
  /*
   * What opening the stream and each response frame need, made once per try as plain objects: a capturing lambda
   * or method reference costs an allocation each time it is made and, while the code is C1-compiled (the first
   * tier, before C2 takes a hot method over), a method-handle call.
   */
  private final Runnable readUpstream = new Runnable() {
    @Override
    public void run() {
      stream.consumed();
    }
  };
  private final ChannelFutureListener closeUpstreamIfNotWritten = new ChannelFutureListener() {
    @Override
    public void operationComplete(ChannelFuture written) {
      if (!written.isSuccess()) {
        stream.cancel();
      }
    }
  };
  private final GenericFutureListener<Future<UpstreamStream>> whenOpened = new GenericFutureListener<>() {
    @Override
    public void operationComplete(Future<UpstreamStream> opening) {
      if (loop.inEventLoop()) {
        opened(opening); // the usual case: the connection runs on the caller's loop, no hop needed
      } else {
        loop.execute(() -> opened(opening));
      }
    }
  };

  /** @param tried endpoints the request failed on so far; this try adds the ones it cannot reach */
  public EndpointAttempt(Cluster cluster, Set<Endpoint> tried, EventLoop loop, Listener call) {
    this.cluster = cluster;
    this.tried = tried;
    this.loop = loop;
    this.call = call;
  }

  /** Opens a stream to {@code target}, counted outstanding there until {@link #finish()}. */
  public void connect(Endpoint target) {
    endpoint = target;
    target.openStream(new UpstreamHandler(), loop).addListener(whenOpened);
  }

  private void opened(Future<UpstreamStream> opening) {
    if (!opening.isSuccess()) {
      cluster.onFailure(endpoint);
      tried.add(endpoint);
      connectFailures++;
      if (abandoned || call.isOver()) {
        return;
      }
      Optional<Endpoint> next = connectFailures < MAX_CONNECT_ATTEMPTS ? cluster.choose(tried) : Optional.empty();
      if (next.isPresent()) {
        endpoint.requestFinished();
        connect(next.get());
        return;
      }
      call.connectFailed(this, opening.cause(), connectFailures);
      return;
    }
    UpstreamStream up = opening.getNow();
    if (abandoned || call.isOver()) {
      up.cancel();
      return;
    }
    stream = up;
    openedNanos = System.nanoTime();
    call.opened(this);
  }

  /** The endpoint this try is on (or connecting to). */
  public Endpoint endpoint() {
    return endpoint;
  }

  /** True once the stream is open and until the try is abandoned. */
  public boolean isOpen() {
    return stream != null && !abandoned;
  }

  /** True once response headers went to the caller: the try can no longer be replaced by another. */
  public boolean isPassing() {
    return passing;
  }

  public ChannelFuture write(Object frame) {
    return stream.write(frame);
  }

  public ChannelFuture writeAndFlush(Object frame) {
    return stream.writeAndFlush(frame);
  }

  public void flush() {
    stream.flush();
  }

  /** Runs {@code then} now if the upstream stream takes more frames (window and buffer not full), else once it does. */
  public void whenWritable(Runnable then) {
    onWritable.run(stream.isWritable(), then);
  }

  /** Closes the stream; an open one closes with RST_STREAM(CANCEL), so the upstream sees the call cancelled. */
  public void cancel() {
    if (stream != null) {
      stream.cancel();
    }
  }

  /** The call gave up on this try: its later events are ignored and its stream is cancelled. */
  public void abandon() {
    abandoned = true;
    cancel();
  }

  /** The try took too long: the endpoint is counted as failing. */
  public void timedOut() {
    cluster.onFailure(endpoint);
  }

  /** The endpoint no longer counts this try outstanding; once, however often it is called. */
  public void finish() {
    if (!finished && endpoint != null) {
      finished = true;
      endpoint.requestFinished();
    }
  }

  /** Passes a response frame to the caller, with the endpoint's success and latency sample on the way. */
  public void pass(Object msg) {
    if (msg instanceof Http2HeadersFrame && !passing) {
      passing = true;
      responseHeadersNanos = System.nanoTime();
      cluster.onSuccess(endpoint);
    }
    if (msg instanceof Http2DataFrame) {
      responseDataFrames++;
    }
    boolean ends = Frames.isEndStream(msg);
    if (ends && responseDataFrames <= 1) {
      // a unary exchange: time to its response headers is a fair latency sample. A stream's headers
      // may wait for its first message (grpc-java sends them lazily), which says nothing of the endpoint.
      endpoint.recordLatency(responseHeadersNanos - openedNanos); // connect time is not the endpoint's latency
    }
    Object copy = Frames.restamp(msg);
    if (copy == null) {
      stream.consumed();
      return;
    }
    call.respond(copy, ends).addListener(closeUpstreamIfNotWritten);
    // no waiting for each write to complete: the frames read in one turn leave together (ConsolidatedFlush); after
    // the last one the read sees the stream's end, which closes its channel
    call.whenCallerWritable(readUpstream);
  }

  /** The upstream side of this try's stream: its frames and its end, as the connection's codec hands them over. */
  private final class UpstreamHandler implements UpstreamStream.Receiver {
    @Override
    public void onFrame(Object msg) {
      if (abandoned) {
        ReferenceCountUtil.release(msg);
        stream.cancel();
        return;
      }
      if (!passing && msg instanceof Http2ResetFrame reset) {
        // reset before any answer: REFUSED_STREAM (e.g. the app was already going away) means never processed
        refused |= reset.errorCode() == Http2Error.REFUSED_STREAM.code();
        return; // the stream's close that follows is handled as a reset by onClosed
      }
      if (!passing && msg instanceof Http2HeadersFrame headers && headers.isEndStream()) {
        answered = true;
        loop.execute(() -> trailersOnly(headers));
        return;
      }
      pass(msg);
    }

    private void trailersOnly(Http2HeadersFrame trailers) {
      if (abandoned || call.isOver()) {
        stream.cancel();
        return;
      }
      if (trailers.headers().get(ProxyError.ERROR_HEADER) != null) {
        cluster.onFailure(endpoint); // the next hop could not reach its app: this endpoint is unwell
      }
      call.trailersOnly(EndpointAttempt.this, trailers);
    }

    @Override
    public void onClosed() {
      if (abandoned || answered || call.isOver()) {
        return;
      }
      cluster.onFailure(endpoint);
      loop.execute(() -> {
        if (!abandoned && !call.isOver()) {
          call.reset(EndpointAttempt.this, refused);
        }
      });
    }

    @Override
    public void onWritabilityChanged() {
      onWritable.writabilityChanged(stream.isWritable());
    }

    @Override
    public void onRefused() {
      refused = true; // GOAWAY: the upstream never processed this stream
    }
  }
}
