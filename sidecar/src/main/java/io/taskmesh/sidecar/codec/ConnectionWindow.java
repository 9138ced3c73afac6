package io.taskmesh.sidecar.codec;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2LocalFlowController;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * Opens a server connection's receive window to the listener's {@code maxConnectionBufferBytes}, once, right after
 * the codec's preface. HTTP/2 starts every connection at 65,535 bytes shared by all its streams, whatever their own
 * windows; Netty's codec widens it only to about twice a stream's window (2 MiB for the sidecar's 1 MiB streams,
 * 64 KiB for the gateway's 64 KiB ones), so the budget would otherwise say more, or less, than what a caller may
 * send. It stays in the pipeline (handlers are added one after the other behind it), where Netty passes it by for
 * every event it does not handle.
 */
final class ConnectionWindow extends ChannelInboundHandlerAdapter {
  private final int bytes;

  ConnectionWindow(int bytes) {
    this.bytes = bytes;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) { // added behind a codec on a live connection (after sniffing): its preface is out
      open(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    open(ctx); // the codec before this one sent its preface on the same event
    ctx.fireChannelActive();
  }

  /**
   * Netty's flow controller takes a larger window at once but tells the peer only once half of the window in force is
   * used: a ratio just under 1, for the moment, makes it send the WINDOW_UPDATE now.
   */
  private void open(ChannelHandlerContext ctx) {
    Http2Connection connection = ctx.pipeline().get(Http2FrameCodec.class).connection();
    DefaultHttp2LocalFlowController flow = (DefaultHttp2LocalFlowController) connection.local().flowController();
    Http2Stream stream = connection.connectionStream();
    int increment = bytes - flow.windowSize(stream);
    if (increment <= 0) {
      return;
    }
    try {
      float ratio = flow.windowUpdateRatio(stream);
      flow.incrementWindowSize(stream, increment);
      flow.windowUpdateRatio(stream, 0.999f);
      flow.windowUpdateRatio(stream, ratio);
    } catch (Http2Exception e) {
      ctx.fireExceptionCaught(e);
      return;
    }
    ctx.flush();
  }
}
