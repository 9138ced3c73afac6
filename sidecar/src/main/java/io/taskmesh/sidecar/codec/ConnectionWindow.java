package io.taskmesh.sidecar.codec;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2LocalFlowController;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * Opens an HTTP/2 connection's receive window to a number of bytes, once, right after its codec's preface.
 * HTTP/2 starts every connection at 65,535 bytes shared by all its streams, whatever their own windows; Netty's
 * codec widens it only to about twice a stream's window (2 MiB for 1 MiB streams, 64 KiB for the gateway's 64 KiB
 * ones). A listener's connection gets its {@code maxConnectionBufferBytes}: what all its streams together may send
 * before the proxy passed it on. Bytes are given back to the peer as the proxy consumes them, so a peer whose
 * streams together are that far ahead of the reader waits. It stays in the pipeline (handlers may be added one
 * after the other behind it), where Netty passes it by for every event it does not handle.
 */
public final class ConnectionWindow extends ChannelInboundHandlerAdapter {
  private final Http2FrameCodec codec;
  private final int bytes;

  /** @param codec the connection's codec, before this handler in the pipeline */
  public ConnectionWindow(Http2FrameCodec codec, int bytes) {
    this.codec = codec;
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
    DefaultHttp2LocalFlowController flow = (DefaultHttp2LocalFlowController) codec.connection().local().flowController();
    Http2Stream connection = codec.connection().connectionStream();
    int increment = bytes - flow.initialWindowSize(connection);
    if (increment <= 0) {
      return;
    }
    try {
      float ratio = flow.windowUpdateRatio(connection);
      flow.incrementWindowSize(connection, increment);
      flow.windowUpdateRatio(connection, 0.999f);
      flow.windowUpdateRatio(connection, ratio);
    } catch (Http2Exception e) {
      ctx.fireExceptionCaught(e);
      return;
    }
    ctx.flush();
  }
}
