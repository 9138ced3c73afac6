package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslProvider;
import io.taskmesh.identity.SpiffeId;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UpstreamTlsTest {
  private static final SpiffeId BILLING = new SpiffeId("mesh.test", "shop", "billing");
  private static final SpiffeId FRONTEND = new SpiffeId("mesh.test", "shop", "frontend");
  private final TestAuthority authority = new TestAuthority("mesh-root");

  @Test
  void theEndpointMustProveTheIdentityDiscoveryAnnouncedBeforeAnythingIsSentToIt() throws Exception {
    MeshTls server = MeshTls.of(authority.certificate(BILLING, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(),
        SslProvider.OPENSSL);
    MeshTls client = MeshTls.of(authority.certificate(FRONTEND, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(),
        SslProvider.OPENSSL);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try (TlsPeers peers = new TlsPeers(server::server)) {
      InetSocketAddress address = peers.address();

      assertThat(send(group, client, address, BILLING)).isEqualTo("to billing");
      assertThat(send(group, client, address, new SpiffeId("mesh.test", "shop", "payments")))
          .as("a server proving billing where payments was announced").isEmpty();
    } finally {
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static String send(EventLoopGroup group, MeshTls tls, InetSocketAddress address, SpiffeId expected)
      throws InterruptedException {
    Answers answers = new Answers();
    Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(answers);
            UpstreamTls.install(ch, tls, address.getHostString(), address.getPort(), expected);
          }
        })
        .connect(address).syncUninterruptibly().channel();
    channel.writeAndFlush(Unpooled.copiedBuffer("to billing", StandardCharsets.UTF_8));  // before the handshake ends
    String answer = answers.next();
    channel.close().syncUninterruptibly();
    return answer;
  }
}
