package io.taskmesh.e2e.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.taskmesh.config.IdentityConfig;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.identity.MeshTls;
import io.taskmesh.sidecar.identity.PeerIdentity;
import io.taskmesh.sidecar.identity.WorkloadIdentity;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sidecars' identities from the operator's real issuer, then a mutual TLS handshake between them on
 * 127.0.0.1 with the contexts the sidecar makes: each side sees the other's SPIFFE ID ({@link MeshIssuer}: the
 * operator's issuer with a stand-in token review).
 */
class MeshIdentityTest {
  private static final String TRUST_DOMAIN = MeshIssuer.TRUST_DOMAIN;

  @Test
  void twoSidecarsCertifiedByTheOperatorProveTheirIdentitiesToEachOther(@TempDir Path dir) throws Exception {
    try (MeshIssuer issuer = new MeshIssuer(dir);
        WorkloadIdentity frontend = identity(issuer, "frontend");
        WorkloadIdentity billing = identity(issuer, "billing");
        NettyResources netty = new NettyResources(1)) {
      frontend.ready().get(30, TimeUnit.SECONDS);
      billing.ready().get(30, TimeUnit.SECONDS);
      assertThat(frontend.id()).isEqualTo(new SpiffeId(TRUST_DOMAIN, "shop", "frontend"));

      CompletableFuture<Optional<SpiffeId>> seenByServer = new CompletableFuture<>();
      Channel server = new ServerBootstrap().group(netty.acceptors(), netty.workers()).channel(netty.serverChannelType())
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              SslHandler tls = billing.contexts().current().orElseThrow().server().newHandler(ch.alloc());
              ch.pipeline().addLast(tls, new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                  if (event instanceof SslHandshakeCompletionEvent done) {
                    seenByServer.complete(done.isSuccess() ? PeerIdentity.of(tls) : Optional.empty());
                  }
                  ctx.fireUserEventTriggered(event);
                }
              });
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
      try {
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        SslHandler[] client = new SslHandler[1];
        Channel connection = new Bootstrap().group(netty.workers()).channel(netty.channelType())
            .handler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                client[0] = frontend.contexts().current().orElseThrow().client()
                    .newHandler(ch.alloc(), address.getHostString(), address.getPort());
                ch.pipeline().addLast(client[0]);
              }
            })
            .connect(address).syncUninterruptibly().channel();
        try {
          assertThat(client[0].handshakeFuture().awaitUninterruptibly(20, TimeUnit.SECONDS)).isTrue();
          assertThat(client[0].handshakeFuture().isSuccess()).as("%s", client[0].handshakeFuture().cause()).isTrue();
          assertThat(PeerIdentity.of(client[0])).contains(billing.id());
          assertThat(seenByServer.get(20, TimeUnit.SECONDS)).contains(frontend.id());
          assertThat(MeshTls.negotiatedH2(client[0])).isTrue();
        } finally {
          connection.close().syncUninterruptibly();
        }
      } finally {
        server.close().syncUninterruptibly();
      }
    }
  }

  private static WorkloadIdentity identity(MeshIssuer issuer, String serviceAccount) throws Exception {
    return WorkloadIdentity.start(new IdentityConfig(IdentityMode.PERMISSIVE, TRUST_DOMAIN, "localhost:" + issuer.port(),
        issuer.tokenFile("shop", serviceAccount).toString(), issuer.bundle().toString(), Duration.ofHours(24)),
        Clock.systemUTC());
  }
}
