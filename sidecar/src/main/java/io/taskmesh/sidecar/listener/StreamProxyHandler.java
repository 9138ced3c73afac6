package io.taskmesh.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.codec.WhenWritable;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.identity.PeerIdentity;
import java.util.Optional;
import io.taskmesh.sidecar.logical.Downstream;
import io.taskmesh.sidecar.logical.LogicalCall;
import io.taskmesh.sidecar.logical.ProxyChain;

/**
 * The caller's side of one HTTP/2 stream channel, for the gateway (which keeps a channel per stream to choose per
 * stream between transcoding and proxying; the sidecar's listeners relay frames without one, see
 * {@link CallerStreams}): its first headers start a {@link LogicalCall}, which owns the
 * request; every later frame is relayed to it, and its response frames are written back here. Auto-read
 * is off: the next frame is read only when the call's upstream stream can take it, and the upstream's next
 * only when this stream can, so a slow reader on either side slows the other (HTTP/2 windows do the rest).
 */
final class StreamProxyHandler extends ChannelInboundHandlerAdapter implements Downstream {
  private final ProxyChain chain;
  private Channel downstream;
  private LogicalCall call;
  /** What waits for this stream to become writable again (the upstream's next read); at most one. */
  private final WhenWritable onWritable = new WhenWritable();

  StreamProxyHandler(ProxyChain chain) {
    this.chain = chain;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    downstream = ctx.channel();
  }

  /** A stream's first read, where this handler is there from the start (the gateway's gRPC streams). */
  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (call != null) {
      call.onRequestFrame(msg);
    } else if (msg instanceof Http2HeadersFrame headers) {
      call = new LogicalCall(chain, this, headers);
      call.start();
    } else {
      ReferenceCountUtil.release(msg); // nothing comes before a stream's headers
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (call != null) {
      call.onCallerGone();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    onWritable.writabilityChanged(ctx.channel().isWritable());
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  @Override
  public EventLoop eventLoop() {
    return downstream.eventLoop();
  }

  @Override
  public boolean isActive() {
    return downstream.isActive();
  }

  @Override
  public Optional<SpiffeId> peer() {
    return PeerIdentity.of(downstream);
  }

  @Override
  public void readNext() {
    downstream.read();
  }

  @Override
  public ChannelFuture send(Object frame) {
    return downstream.writeAndFlush(frame);
  }

  @Override
  public void whenWritable(Runnable then) {
    onWritable.run(downstream.isWritable(), then);
  }

  @Override
  public void close() {
    downstream.close();
  }
}
