package io.taskmesh.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.overload.OverloadManager;
import java.net.SocketAddress;
import java.util.List;
import java.util.function.Predicate;

/**
 * The first handler of each stream, before anything is routed or buffered for it: while the proxy is
 * overloaded a new stream is answered RESOURCE_EXHAUSTED ({@code reason=overloaded}); a stream from a
 * connection that is not a mesh peer loses the proxy's own headers ({@code taskmesh-internal},
 * {@code taskmesh-error}), which only another sidecar may send. Then the gate gives its place to the
 * stream's {@link StreamProxyHandler}. One gate serves every stream of a listener (it keeps no state of its
 * own), so a stream's pipeline is built with one handler added and one replaced, not an initializer and two.
 */
@ChannelHandler.Sharable
public final class StreamGate extends ChannelInboundHandlerAdapter {
  /** Headers only proxies of the mesh may send; from anyone else they are dropped. */
  public static final List<String> INTERNAL_HEADERS = List.of("taskmesh-internal", "taskmesh-error");

  private final ProxyChain chain;
  private final OverloadManager overload;
  private final String listener;
  private final Predicate<SocketAddress> meshPeer;

  /** @param meshPeer whether a connection's peer speaks for the mesh (may send internal headers) */
  StreamGate(ProxyChain chain, OverloadManager overload, String listener, Predicate<SocketAddress> meshPeer) {
    this.chain = chain;
    this.overload = overload;
    this.listener = listener;
    this.meshPeer = meshPeer;
  }

  /** Auto-read is off: each next frame is read when the stream's relay can take it. */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.channel().config().setAutoRead(false);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Http2HeadersFrame frame)) {
      ReferenceCountUtil.release(msg); // nothing comes before a stream's headers
      return;
    }
    String cause = overload.cause();
    ChannelPipeline pipeline = ctx.pipeline();
    if (cause == null) {
      stripInternalHeaders(ctx.channel(), frame.headers());
      pipeline.replace(this, null, new StreamProxyHandler(chain));
      pipeline.fireChannelRead(msg);
      return;
    }
    ReferenceCountUtil.release(msg);
    overload.refused(listener);
    pipeline.replace(this, null, new DiscardRest());
    ctx.channel().writeAndFlush(new DefaultHttp2HeadersFrame(refusal(chain.hop(), cause).toTrailersOnly(), true));
    ctx.channel().config().setAutoRead(true); // reads and drops the rest of the request
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  /** What a refused stream has left: the rest of its request, read and released. */
  private static final class DiscardRest extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }
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
