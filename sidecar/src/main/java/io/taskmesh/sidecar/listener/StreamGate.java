package io.taskmesh.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.overload.OverloadManager;
import java.net.SocketAddress;
import java.util.List;
import java.util.function.Predicate;

/**
 * The first handler of each stream, before anything is routed or buffered for it: while the proxy is
 * overloaded a new stream is answered RESOURCE_EXHAUSTED ({@code reason=overloaded}); a stream from a
 * connection that is not a mesh peer loses the proxy's own headers ({@code taskmesh-internal},
 * {@code taskmesh-error}), which only another sidecar may send. Then the gate steps aside.
 */
public final class StreamGate extends ChannelInboundHandlerAdapter {
  /** Headers only proxies of the mesh may send; from anyone else they are dropped. */
  public static final List<String> INTERNAL_HEADERS = List.of("taskmesh-internal", "taskmesh-error");

  private final OverloadManager overload;
  private final String listener;
  private final String hop;
  private final Predicate<SocketAddress> meshPeer;
  private boolean refused;

  /** @param meshPeer whether a connection's peer speaks for the mesh (may send internal headers) */
  public StreamGate(OverloadManager overload, String listener, String hop, Predicate<SocketAddress> meshPeer) {
    this.overload = overload;
    this.listener = listener;
    this.hop = hop;
    this.meshPeer = meshPeer;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!(msg instanceof Http2HeadersFrame frame)) {
      ctx.fireChannelRead(msg);
      return;
    }
    String cause = overload.cause();
    if (cause == null) {
      stripInternalHeaders(ctx.channel(), frame.headers());
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

  private void stripInternalHeaders(Channel stream, Http2Headers headers) {
    boolean any = false;
    for (String name : INTERNAL_HEADERS) {
      any |= headers.contains(name);
    }
    Channel connection = stream instanceof Http2StreamChannel child ? child.parent() : stream;
    if (any && !meshPeer.test(connection.remoteAddress())) {
      INTERNAL_HEADERS.forEach(headers::remove);
    }
  }

  /** The answer to a stream refused because the proxy is overloaded. */
  public static ProxyError refusal(String hop, String cause) {
    return new ProxyError(hop, "this proxy", ProxyError.RESOURCE_EXHAUSTED, "overloaded",
        "overloaded, new streams are refused: " + cause, 1_000);
  }
}
