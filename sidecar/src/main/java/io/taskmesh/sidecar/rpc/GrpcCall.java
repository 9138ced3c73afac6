package io.taskmesh.sidecar.rpc;

import com.google.protobuf.MessageLite;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One call on one HTTP/2 stream: messages out ({@link #send}, {@link #halfClose}), messages and then exactly one
 * status in ({@link Listener}). What the caller does before the stream is open is kept and done, in order, once it
 * is; a call that ended (by its status, its deadline or {@link #cancel}) hears nothing more.
 *
 * <p>A stream the server never took is opened once more on a new connection, with what was sent on it: one the
 * connection could no longer create because a GOAWAY had arrived, or one above the GOAWAY's last stream id, which
 * RFC 9113 (6.8) says the server did not and will not process. A server retiring its connection (grpc-java's
 * max connection age) thus fails no call, and nothing the server saw is sent twice.
 */
public final class GrpcCall<Q extends MessageLite, R extends MessageLite> {
  /** Told on the connection's event loop: keep it short, hand longer work to a thread of your own. */
  public interface Listener<R> {
    void onMessage(R message);

    /** Once per call, last. */
    void onClose(GrpcStatus status);
  }

  private final GrpcMethod<Q, R> method;
  private final Listener<R> listener;
  private final Consumer<GrpcCall<Q, R>> reopen;
  private final AtomicBoolean finished = new AtomicBoolean();
  /** Guarded by this, with {@link #stream}: what waits for the stream to open. */
  private final List<Consumer<Http2StreamChannel>> pending = new ArrayList<>();
  /** Guarded by this: all done on the stream until the server answered, to do again on a stream reopened. */
  private final List<Consumer<Http2StreamChannel>> unanswered = new ArrayList<>();
  private boolean answered;
  private boolean reopened;
  private Http2StreamChannel stream;
  private volatile ScheduledFuture<?> deadlineTimer;

  /** @param reopen opens a stream for this call on a usable connection (then {@link #opened}) */
  GrpcCall(GrpcMethod<Q, R> method, Listener<R> listener, Consumer<GrpcCall<Q, R>> reopen) {
    this.method = method;
    this.listener = listener;
    this.reopen = reopen;
  }

  /** Sends one request message. */
  public void send(Q message) {
    onStream(channel -> channel.writeAndFlush(new DefaultHttp2DataFrame(
        MessageDeframer.frame(message, channel.alloc()), false)));
  }

  /** Ends the requests; responses keep coming until the server's status. */
  public void halfClose() {
    onStream(channel -> channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true)));
  }

  /** Ends the call now with CANCELLED (the stream is reset); nothing more is heard of it. */
  public void cancel(String why) {
    finish(new GrpcStatus(GrpcCode.CANCELLED, why));
    onStream(Http2StreamChannel::close);
  }

  void deadlineTimer(ScheduledFuture<?> timer) {
    deadlineTimer = timer;
    if (finished.get()) {
      timer.cancel(false);
    }
  }

  /** The deadline passed: DEADLINE_EXCEEDED, and the stream is reset. */
  void expire(String why) {
    finish(new GrpcStatus(GrpcCode.DEADLINE_EXCEEDED, why));
    onStream(Http2StreamChannel::close);
  }

  /** On the stream's event loop: does what waited for it. */
  void opened(Http2StreamChannel channel) {
    List<Consumer<Http2StreamChannel>> waiting;
    synchronized (this) {
      stream = channel;
      waiting = List.copyOf(pending);
      pending.clear();
    }
    if (finished.get()) {
      channel.close();
      return;
    }
    waiting.forEach(action -> action.accept(channel));
  }

  void failedToOpen(String why) {
    finish(new GrpcStatus(GrpcCode.UNAVAILABLE, why));
  }

  void onStream(Consumer<Http2StreamChannel> action) {
    Http2StreamChannel open;
    synchronized (this) {
      if (!answered) {
        unanswered.add(action);
      }
      if (stream == null) {
        pending.add(action);
        return;
      }
      open = stream;
    }
    if (open.eventLoop().inEventLoop()) {
      action.accept(open);
    } else {
      open.eventLoop().execute(() -> action.accept(open));
    }
  }

  private synchronized void answered() {
    answered = true;
    unanswered.clear();
  }

  /** On the closed stream's event loop: whether the call goes on, on another stream (once at most). */
  private boolean reopenedAfterRefusal(Http2StreamChannel closed, Http2Connection connection) {
    synchronized (this) {
      if (answered || reopened || finished.get() || !neverTaken(closed, connection)) {
        return false;
      }
      reopened = true;
      stream = null;
      pending.clear();
      pending.addAll(unanswered);
    }
    reopen.accept(this);
    return true;
  }

  private static boolean neverTaken(Http2StreamChannel closed, Http2Connection connection) {
    if (connection == null || !connection.goAwayReceived()) {
      return false;
    }
    int id = closed.stream().id();
    return id < 0 || id > connection.local().lastStreamKnownByPeer();
  }

  private void finish(GrpcStatus status) {
    if (finished.compareAndSet(false, true)) {
      ScheduledFuture<?> timer = deadlineTimer;
      if (timer != null) {
        timer.cancel(false);
      }
      listener.onClose(status);
    }
  }

  /** The stream's handler: response headers, messages, trailers (or trailers only), resets. */
  ChannelInboundHandlerAdapter handler() {
    return new ChannelInboundHandlerAdapter() {
      private MessageDeframer<R> body;
      private boolean headersSeen;
      private int httpStatus;
      /** The connection's state, read while its pipeline still holds the codec (it is emptied once closed). */
      private Http2Connection connection;

      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        Http2FrameCodec codec = ctx.channel().parent().pipeline().get(Http2FrameCodec.class);
        connection = codec == null ? null : codec.connection();
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          if (msg instanceof Http2HeadersFrame headers) {
            onHeaders(ctx, headers);
          } else if (msg instanceof Http2DataFrame data) {
            onData(ctx, data);
          } else if (msg instanceof Http2ResetFrame reset) {
            answered();
            finish(new GrpcStatus(reset.errorCode() == Http2Error.REFUSED_STREAM.code() ? GrpcCode.UNAVAILABLE
                : reset.errorCode() == Http2Error.CANCEL.code() ? GrpcCode.CANCELLED : GrpcCode.INTERNAL,
                "stream reset by the server (HTTP/2 error " + reset.errorCode() + ")"));
          }
        } catch (GrpcStatusException e) {
          finish(e.status());
          ctx.close();
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
        Http2Headers headers = frame.headers();
        if (!headersSeen) {
          headersSeen = true;
          answered();
          httpStatus = parseStatus(headers.status());
          if (!frame.isEndStream() && httpStatus != 200) {
            throw new GrpcStatusException(new GrpcStatus(GrpcCode.ofHttpStatus(httpStatus),
                "HTTP status " + httpStatus + " from the server"));
          }
          if (!frame.isEndStream()) {
            body = new MessageDeframer<>(method.responses(), ctx.alloc());
            return;
          }
        }
        finish(statusOf(headers));
      }

      private void onData(ChannelHandlerContext ctx, Http2DataFrame frame) {
        if (body == null) {
          throw new GrpcStatusException(new GrpcStatus(GrpcCode.INTERNAL, "a message before the response headers"));
        }
        body.add(frame.content().retain(), message -> {
          if (!finished.get()) {
            listener.onMessage(message);
          }
        });
        if (frame.isEndStream()) {
          finish(new GrpcStatus(GrpcCode.INTERNAL, "the response ended without a status"));
        }
      }

      private GrpcStatus statusOf(Http2Headers trailers) {
        CharSequence code = trailers.get("grpc-status");
        if (code == null) {
          return httpStatus == 200 ? new GrpcStatus(GrpcCode.INTERNAL, "the response ended without grpc-status")
              : new GrpcStatus(GrpcCode.ofHttpStatus(httpStatus), "HTTP status " + httpStatus + " from the server");
        }
        if (body != null && body.hasPartialMessage()) {
          return new GrpcStatus(GrpcCode.INTERNAL, "the response ended inside a message");
        }
        return new GrpcStatus(GrpcCode.of(code), GrpcStatus.decodeMessage(trailers.get("grpc-message")));
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (!reopenedAfterRefusal((Http2StreamChannel) ctx.channel(), connection)) {
          finish(new GrpcStatus(GrpcCode.UNAVAILABLE, "the stream closed before the server's status"));
        }
        if (body != null) {
          body.close();
        }
        ctx.fireChannelInactive();
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        finish(new GrpcStatus(GrpcCode.UNAVAILABLE, String.valueOf(cause.getMessage())));
        ctx.close();
      }
    };
  }

  private static int parseStatus(CharSequence status) {
    try {
      return status == null ? 0 : Integer.parseInt(status.toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
