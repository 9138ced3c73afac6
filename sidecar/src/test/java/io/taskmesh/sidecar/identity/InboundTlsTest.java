package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.identity.SpiffeId;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An inbound listener's first handler on 127.0.0.1: behind it, a handler that answers each read with the
 * caller identity it finds on the channel, so what the app-side handlers would see is visible.
 */
class InboundTlsTest {
  private static final SpiffeId SERVER = new SpiffeId("mesh.test", "shop", "billing");
  private static final SpiffeId CLIENT = new SpiffeId("mesh.test", "shop", "frontend");
  private final TestAuthority authority = new TestAuthority("mesh-root");
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final List<InboundTls.Outcome> outcomes = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void tlsCallersAreProvedAndPlaintextPassesInPermissiveMode() throws Exception {
    Channel server = listen(IdentityMode.PERMISSIVE);
    MeshTls client = MeshTls.of(authority.certificate(CLIENT, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(),
        SslProvider.OPENSSL);

    assertThat(call(server, client)).isEqualTo("caller=" + CLIENT.uri());
    assertThat(call(server, null)).isEqualTo("caller=none");
    assertThat(outcomes).containsExactly(InboundTls.Outcome.TLS, InboundTls.Outcome.PLAINTEXT_ACCEPTED);
  }

  @Test
  void strictModeRefusesPlaintextAndStillServesTls() throws Exception {
    Channel server = listen(IdentityMode.STRICT);
    MeshTls client = MeshTls.of(authority.certificate(CLIENT, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(),
        SslProvider.OPENSSL);

    assertThat(call(server, null)).isEmpty();
    assertThat(call(server, client)).isEqualTo("caller=" + CLIENT.uri());
    assertThat(outcomes).containsExactly(InboundTls.Outcome.PLAINTEXT_REFUSED, InboundTls.Outcome.TLS);
  }

  @Test
  void aCallerOutsideOurTrustIsRefusedBeforeAnyByteReachesTheApp() throws Exception {
    Channel server = listen(IdentityMode.PERMISSIVE);
    MeshTls impostor = MeshTls.of(new TestAuthority("other-root").certificate(CLIENT, Duration.ofHours(1)), "mesh.test",
        Clock.systemUTC(), SslProvider.OPENSSL);

    assertThat(call(server, impostor)).isEmpty();
    // the server counts the refusal on its own thread, possibly after the client has seen the close
    await().atMost(Duration.ofSeconds(20)).until(() -> !outcomes.isEmpty());
    assertThat(outcomes).containsExactly(InboundTls.Outcome.TLS_REFUSED);
  }

  private Channel listen(IdentityMode mode) {
    MeshTlsContexts contexts = new MeshTlsContexts("mesh.test", Clock.systemUTC(), SslProvider.OPENSSL);
    contexts.use(authority.certificate(SERVER, Duration.ofHours(1)));
    return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new InboundTls(contexts, mode, outcomes::add), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object message) {
                ((ByteBuf) message).release();
                SpiffeId caller = PeerIdentity.of(ctx.channel()).orElse(null);
                ctx.writeAndFlush(Unpooled.copiedBuffer("caller=" + (caller == null ? "none" : caller.uri()),
                    StandardCharsets.UTF_8));
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  /** Sends a few bytes (over TLS when {@code tls} is given) and returns the answer, empty when the server closed. */
  private String call(Channel server, MeshTls tls) throws InterruptedException {
    InetSocketAddress address = (InetSocketAddress) server.localAddress();
    Answers answers = new Answers();
    Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls != null) {
              ch.pipeline().addLast(tls.client().newHandler(ch.alloc(), address.getHostString(), address.getPort()));
            }
            ch.pipeline().addLast(answers);
          }
        })
        .connect(address).syncUninterruptibly().channel();
    if (tls != null) {
      channel.pipeline().get(SslHandler.class).handshakeFuture().awaitUninterruptibly(20, TimeUnit.SECONDS);
    }
    channel.writeAndFlush(Unpooled.copiedBuffer("PRI * HTTP/2.0", StandardCharsets.US_ASCII));
    String answer = answers.next();
    channel.close().syncUninterruptibly();
    return answer;
  }
}
