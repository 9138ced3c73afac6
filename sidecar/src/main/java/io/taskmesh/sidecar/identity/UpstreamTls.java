package io.taskmesh.sidecar.identity;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.taskmesh.identity.SpiffeId;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of mTLS to a meshed endpoint: installed first on the upstream connection, it runs the
 * handshake with the current client context and then holds the server to the identity discovery
 * announced for that endpoint. A server that proves another identity, or does not agree on h2, has its
 * connection closed before any request is written to it (writes wait in the SslHandler meanwhile).
 */
public final class UpstreamTls {
  private static final Logger log = LoggerFactory.getLogger(UpstreamTls.class);

  private UpstreamTls() {}

  /** Adds TLS for an endpoint expected to be {@code expected} at the front of {@code channel}'s pipeline. */
  public static SslHandler install(SocketChannel channel, MeshTls tls, String host, int port, SpiffeId expected) {
    SslHandler handler = tls.client().newHandler(channel.alloc(), host, port);
    channel.pipeline().addFirst("identity-check", new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
          Optional<SpiffeId> peer = PeerIdentity.of(handler);
          if (!peer.equals(Optional.of(expected)) || !MeshTls.negotiatedH2(handler)) {
            log.warn("event=upstream_identity_mismatch endpoint={}:{} expected={} proven={} alpn={}", host, port,
                expected, peer.map(SpiffeId::uri).orElse("none"), handler.applicationProtocol());
            ctx.channel().close();
            return;
          }
          ctx.pipeline().remove(this);
        }
        ctx.fireUserEventTriggered(event);
      }
    });
    channel.pipeline().addFirst("tls", handler);
    return handler;
  }
}
