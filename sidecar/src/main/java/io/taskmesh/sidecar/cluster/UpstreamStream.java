package io.taskmesh.sidecar.cluster;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.codec.StreamWindow;
import java.nio.channels.ClosedChannelException;

/**
 * One request's stream on an upstream connection: a stream of the connection's frame codec, no channel of its own.
 * Frames written here go out on that stream; response frames come to its {@link Receiver}, whose DATA bytes go back
 * to the upstream's window only on {@link #consumed()}. Used on the connection's event loop only.
 */
public final class UpstreamStream {
  /** What the try on this stream hears. */
  public interface Receiver {
    /** A response frame of this stream: passed on or released by the receiver. */
    void onFrame(Object frame);

    /** The stream may take more frames now, or no longer. */
    void onWritabilityChanged();

    /** The upstream said it will not process this stream (GOAWAY below its id); it closes right after. */
    void onRefused();

    /** The stream is over: ended both ways, reset, or its connection is gone. Once. */
    void onClosed();
  }

  private final UpstreamStreams connection;
  private final ChannelHandlerContext ctx;
  private final Http2FrameStream stream;
  private final Receiver receiver;
  private final Runnable onEnded;
  private final StreamWindow window = new StreamWindow();
  /** Its headers went to the codec: the stream has an id and is in the connection's map. */
  private boolean started;
  private boolean ended;
  private final ChannelFutureListener endIfHeadersFailed = new ChannelFutureListener() {
    @Override
    public void operationComplete(ChannelFuture written) {
      if (!written.isSuccess()) {
        ended();
      }
    }
  };

  UpstreamStream(UpstreamStreams connection, ChannelHandlerContext ctx, Http2FrameStream stream, Receiver receiver,
      Runnable onEnded) {
    this.connection = connection;
    this.ctx = ctx;
    this.stream = stream;
    this.receiver = receiver;
    this.onEnded = onEnded;
  }

  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  /** Writes a frame on this stream (the first one its headers); a failed future once the stream is over. */
  public ChannelFuture write(Object frame) {
    if (ended) {
      ReferenceCountUtil.release(frame);
      return ctx.newFailedFuture(new ClosedChannelException());
    }
    ChannelFuture written = ctx.write(((Http2StreamFrame) frame).stream(stream));
    if (!started) {
      started = true;
      if (stream.state() == Http2Stream.State.IDLE) {
        ended(); // the codec did not create it (connection going away, out of stream ids): the write has failed
      } else {
        connection.register(stream.id(), this);
        written.addListener(endIfHeadersFailed);
      }
    }
    return written;
  }

  public ChannelFuture writeAndFlush(Object frame) {
    ChannelFuture written = write(frame);
    ctx.flush();
    return written;
  }

  public void flush() {
    ctx.flush();
  }

  /** The upstream's window and the connection take more frames of this stream now. */
  public boolean isWritable() {
    if (ended) {
      return false;
    }
    return started ? connection.isWritable(stream) : ctx.channel().isWritable();
  }

  /** The response frames received so far were taken by the caller: their bytes go back to the upstream's window. */
  public void consumed() {
    if (!ended) {
      window.consume(ctx, stream);
    }
  }

  /** Ends the stream: RST_STREAM(CANCEL) when it was started, so the upstream sees the call cancelled. */
  public void cancel() {
    if (ended) {
      return;
    }
    if (!started) {
      ended();
      return;
    }
    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream)); // the codec then closes it
  }

  int id() {
    return stream.id();
  }

  void received(Object frame) {
    if (frame instanceof Http2DataFrame data) {
      window.received(data);
    }
    receiver.onFrame(frame);
  }

  void writabilityChanged() {
    receiver.onWritabilityChanged();
  }

  void refused() {
    receiver.onRefused();
  }

  /** The stream closed, or its connection did: leaves the connection's map and tells the receiver, once. */
  void ended() {
    if (ended) {
      return;
    }
    ended = true;
    if (started) {
      connection.unregister(stream.id(), this);
    }
    onEnded.run();
    receiver.onClosed();
  }
}
