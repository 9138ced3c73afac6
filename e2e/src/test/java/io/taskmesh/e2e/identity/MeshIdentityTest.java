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
import io.taskmesh.operator.identity.Authority;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.IdentitySettings;
import io.taskmesh.operator.identity.IssuerServer;
import io.taskmesh.operator.identity.Pem;
import io.taskmesh.operator.identity.RootOfTrust;
import io.taskmesh.operator.identity.TokenReviewer;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.identity.MeshTls;
import io.taskmesh.sidecar.identity.PeerIdentity;
import io.taskmesh.sidecar.identity.WorkloadIdentity;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sidecars' identities from the operator's real issuer, then a mutual TLS handshake between them on
 * 127.0.0.1 with the contexts the sidecar makes: each side sees the other's SPIFFE ID. The token review is
 * a stand-in here (the operator's tests run it against the mock API server's TokenReview).
 */
class MeshIdentityTest {
  private static final String TRUST_DOMAIN = "mesh.test";

  @Test
  void twoSidecarsCertifiedByTheOperatorProveTheirIdentitiesToEachOther(@TempDir Path dir) throws Exception {
    Map<String, TokenReviewer.ServiceAccount> tokens = Map.of(
        token("shop", "frontend"), new TokenReviewer.ServiceAccount("shop", "frontend"),
        token("shop", "billing"), new TokenReviewer.ServiceAccount("shop", "billing"));
    TokenReviewer reviewer = token -> {
      TokenReviewer.ServiceAccount account = tokens.get(token);
      if (account == null) {
        throw new TokenReviewer.InvalidToken("unknown token");
      }
      return account;
    };
    RootOfTrust root = root();
    IdentitySettings settings = new IdentitySettings(true, TRUST_DOMAIN, "127.0.0.1", 0, "taskmesh-system",
        "taskmesh-operator", "taskmesh-operator", "unused", true, Duration.ofHours(24));
    Path bundle = Files.writeString(dir.resolve("ca.crt"), Pem.certificates(root.anchors()));

    try (IssuerServer issuer = IssuerServer.start(reviewer, root, settings, Clock.systemUTC());
        WorkloadIdentity frontend = identity(dir, "frontend", bundle, issuer.port());
        WorkloadIdentity billing = identity(dir, "billing", bundle, issuer.port());
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

  private static WorkloadIdentity identity(Path dir, String serviceAccount, Path bundle, int issuerPort)
      throws Exception {
    Path tokenFile = Files.writeString(dir.resolve(serviceAccount + ".token"), token("shop", serviceAccount));
    return WorkloadIdentity.start(new IdentityConfig(IdentityMode.PERMISSIVE, TRUST_DOMAIN, "localhost:" + issuerPort,
        tokenFile.toString(), bundle.toString(), Duration.ofHours(24)), Clock.systemUTC());
  }

  /** A JWT-shaped token whose subject names the ServiceAccount, as the kubelet's projected tokens do. */
  private static String token(String namespace, String serviceAccount) {
    String claims = "{\"sub\":\"system:serviceaccount:" + namespace + ":" + serviceAccount + "\",\"aud\":[\"taskmesh\"]}";
    Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
    return base64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + base64.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + ".signature";
  }

  private static RootOfTrust root() {
    KeyPair key = Certificates.newKeyPair();
    Instant now = Instant.now();
    X509Certificate anchor = Certificates.selfSignedCa(key, "e2e-root", now.minusSeconds(60), now.plus(Duration.ofDays(30)));
    return RootOfTrust.of(new Authority(anchor, key.getPrivate()), List.of(anchor));
  }
}
