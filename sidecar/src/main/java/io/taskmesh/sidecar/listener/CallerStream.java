package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.codec.StreamWindow;
import io.taskmesh.sidecar.codec.WhenWritable;
import io.taskmesh.sidecar.logical.Downstream;
import io.taskmesh.sidecar.logical.LogicalCall;
import io.taskmesh.sidecar.logical.ProxyChain;
import java.nio.channels.ClosedChannelException;
import java.util.Optional;

/**
 * The caller's side of one HTTP/2 stream, as a small object on its connection's {@link CallerStreams} (no channel):
 * its first headers start a {@link LogicalCall}, every later frame goes to it, and the call's response frames are
 * written on the connection with this stream on them. The caller's DATA bytes go back to its window only when the
 * call's upstream stream has taken them ({@link #readNext()}), and the call reads the upstream's response only while
 * this stream is writable, so a slow reader on either side slows the other through the HTTP/2 windows.
 */
final class CallerStream implements Downstream {
  private final CallerStreams connection;
  private final ChannelHandlerContext ctx;
  private final Http2FrameStream stream;
  private final StreamWindow window = new StreamWindow();
  /** What waits for this stream to become writable again (the upstream's next read); at most one. */
  private final WhenWritable onWritable = new WhenWritable();
  private LogicalCall call;
  private boolean closed;

  CallerStream(CallerStreams connection, ChannelHandlerContext ctx, Http2FrameStream stream) {
    this.connection = connection;
    this.ctx = ctx;
    this.stream = stream;
  }

  void start(ProxyChain chain, Http2HeadersFrame headers) {
    call = new LogicalCall(chain, this, headers);
    call.start();
  }

  /** A frame of the request after its headers. */
  void received(Object frame) {
    if (frame instanceof Http2DataFrame data) {
      window.received(data);
    }
    if (call == null) {
      ReferenceCountUtil.release(frame); // the call failed as it was made: its stream is being reset
      return;
    }
    call.onRequestFrame(frame);
  }

  void writabilityChanged() {
    onWritable.writabilityChanged(isWritable());
  }

  /** The stream closed (ended both ways, reset, or the connection is gone); once. */
  void closed() {
    closed = true;
    if (call != null) { // null when the call failed as it was made
      call.onCallerGone();
    }
  }

  private boolean isWritable() {
    return !closed && connection.isWritable(stream);
  }

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  @Override
  public boolean isActive() {
    return !closed;
  }

  @Override
  public Optional<SpiffeId> peer() {
    return connection.peer();
  }

  @Override
  public void readNext() {
    if (!closed) {
      window.consume(ctx, stream);
    }
  }

  @Override
  public ChannelFuture send(Object frame) {
    if (closed) {
      ReferenceCountUtil.release(frame);
      return ctx.newFailedFuture(new ClosedChannelException());
    }
    return ctx.writeAndFlush(((Http2StreamFrame) frame).stream(stream));
  }

  @Override
  public void whenWritable(Runnable then) {
    if (!closed) {
      onWritable.run(isWritable(), then);
    }
  }

  /** Resets the caller's stream (CANCEL); its close follows from the codec. */
  @Override
  public void close() {
    if (!closed) {
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream));
    }
  }
}
