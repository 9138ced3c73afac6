package io.taskmesh.sidecar.codec;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameStream;

/**
 * The DATA bytes one stream has read that its HTTP/2 window has not got back yet. Without a channel per stream the
 * frame codec hands every frame over as it arrives and returns nothing to the peer's window by itself: the relay
 * gives the bytes back (a WINDOW_UPDATE the codec sends once half the window is due) only when the other side has
 * taken the frames, as a stream channel does on {@code read()}. So a peer never has more in flight through the proxy
 * than its window, however slowly the far side reads.
 */
public final class StreamWindow {
  private int unconsumed;

  public void received(Http2DataFrame data) {
    unconsumed += data.initialFlowControlledBytes();
  }

  /** Gives what was received back to the peer's window of {@code stream}, on the connection of {@code ctx}. */
  public void consume(ChannelHandlerContext ctx, Http2FrameStream stream) {
    if (unconsumed > 0) {
      int bytes = unconsumed;
      unconsumed = 0;
      ctx.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(stream), ctx.voidPromise());
      ctx.flush();
    }
  }
}
