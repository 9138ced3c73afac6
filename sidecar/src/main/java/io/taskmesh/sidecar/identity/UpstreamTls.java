package io.taskmesh.sidecar.identity;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.taskmesh.identity.SpiffeId;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of mTLS to a meshed endpoint: installed first on the upstream connection, it runs the
 * handshake with the current client context and then holds the server to the identity discovery
 * announced for that endpoint. A server that proves another identity, or does not agree on h2, has its
 * connection closed before any request is written to it: writes made meanwhile wait in the SslHandler and are
 * dropped, and a caller that waits for {@link #install}'s future writes nothing at all.
 */
public final class UpstreamTls {
  private static final Logger log = LoggerFactory.getLogger(UpstreamTls.class);

  private UpstreamTls() {}

  /**
   * Adds TLS for an endpoint expected to be {@code expected} at the front of {@code channel}'s pipeline.
   *
   * @return succeeds once the endpoint has proved {@code expected} over h2; fails when the handshake fails or
   *     the endpoint proved another identity
   */
  public static Future<Void> install(SocketChannel channel, MeshTls tls, String host, int port, SpiffeId expected) {
    SslHandler handler = tls.client().newHandler(channel.alloc(), host, port);
    Promise<Void> verified = channel.eventLoop().newPromise();
    handler.handshakeFuture().addListener(done -> {
      if (!done.isSuccess()) {
        verified.tryFailure(done.cause());
      }
    });
    channel.pipeline().addFirst("identity-check", new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
          Optional<SpiffeId> peer = PeerIdentity.of(handler);
          if (!peer.equals(Optional.of(expected)) || !MeshTls.negotiatedH2(handler)) {
            String proven = peer.map(SpiffeId::uri).orElse("none");
            log.warn("event=upstream_identity_mismatch endpoint={}:{} expected={} proven={} alpn={}", host, port,
                expected, proven, handler.applicationProtocol());
            verified.tryFailure(new SSLPeerUnverifiedException("endpoint " + host + ":" + port + " proved " + proven
                + " over " + handler.applicationProtocol() + ", discovery announced " + expected + " over h2"));
            // not close(): the SslHandler would flush the writes waiting for the handshake (a request) first
            ctx.channel().unsafe().close(ctx.channel().voidPromise());
            return;
          }
          ctx.pipeline().remove(this);
          verified.trySuccess(null);
        }
        ctx.fireUserEventTriggered(event);
      }
    });
    channel.pipeline().addFirst("tls", handler);
    return verified;
  }
}
