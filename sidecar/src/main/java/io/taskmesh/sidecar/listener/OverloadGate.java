package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.overload.OverloadManager;

/**
 * The first handler of each stream: while the proxy is overloaded a new stream is answered RESOURCE_EXHAUSTED
 * ({@code reason=overloaded}) before anything is routed or buffered for it; otherwise the gate steps aside.
 */
public final class OverloadGate extends ChannelInboundHandlerAdapter {
  private final OverloadManager overload;
  private final String listener;
  private final String hop;
  private boolean refused;

  public OverloadGate(OverloadManager overload, String listener, String hop) {
    this.overload = overload;
    this.listener = listener;
    this.hop = hop;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    String cause = msg instanceof Http2HeadersFrame ? overload.cause() : null;
    if (cause == null) {
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(msg);
      return;
    }
    refused = true;
    ReferenceCountUtil.release(msg);
    overload.refused(listener);
    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(refusal(hop, cause).toTrailersOnly(), true));
    ctx.channel().config().setAutoRead(true); // reads and drops the rest of the request
  }

  /** The answer to a stream refused because the proxy is overloaded. */
  public static ProxyError refusal(String hop, String cause) {
    return new ProxyError(hop, "this proxy", ProxyError.RESOURCE_EXHAUSTED, "overloaded",
        "overloaded, new streams are refused: " + cause, 1_000);
  }
}
