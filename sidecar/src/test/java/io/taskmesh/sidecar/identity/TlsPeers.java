package io.taskmesh.sidecar.identity;

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
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.taskmesh.identity.SpiffeId;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A TLS echo server on 127.0.0.1 whose every new connection takes the server context of the moment, and
 * clients dialling it; each side records the identity its peer proved.
 */
final class TlsPeers implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final Channel server;
  /** What the server saw of each client whose handshake finished: its identity, or empty when it failed. */
  final BlockingQueue<Optional<SpiffeId>> clientsSeen = new LinkedBlockingQueue<>();

  TlsPeers(Supplier<SslContext> serverContext) {
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            SslHandler tls = serverContext.get().newHandler(channel.alloc());
            channel.pipeline().addLast(tls, new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                if (event instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent done) {
                  clientsSeen.add(done.isSuccess() ? PeerIdentity.of(tls) : Optional.empty());
                }
                ctx.fireUserEventTriggered(event);
              }

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object message) {
                ctx.writeAndFlush(message);
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  /** A connection from the client side, its handshake finished (successfully or not). */
  final class Client implements AutoCloseable {
    final Channel channel;
    final SslHandler tls;
    private final BlockingQueue<String> echoes = new LinkedBlockingQueue<>();

    Client(SslContext context) {
      InetSocketAddress address = (InetSocketAddress) server.localAddress();
      SslHandler[] handler = new SslHandler[1];
      channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              handler[0] = context.newHandler(ch.alloc(), address.getHostString(), address.getPort());
              ch.pipeline().addLast(handler[0], new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object message) {
                  ByteBuf bytes = (ByteBuf) message;
                  echoes.add(bytes.toString(StandardCharsets.UTF_8));
                  bytes.release();
                }
              });
            }
          })
          .connect(address).syncUninterruptibly().channel();
      tls = handler[0];
      tls.handshakeFuture().awaitUninterruptibly(20, TimeUnit.SECONDS);
    }

    boolean handshakeSucceeded() {
      return tls.handshakeFuture().isSuccess();
    }

    Optional<SpiffeId> server() {
      return PeerIdentity.of(tls);
    }

    /** Sends {@code text} and waits (bounded) for it to come back, or for the connection to close. */
    String echo(String text) throws InterruptedException {
      channel.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
      StringBuilder back = new StringBuilder();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (back.length() < text.length() && System.nanoTime() < deadline
          && (channel.isActive() || !echoes.isEmpty())) {
        String part = echoes.poll(100, TimeUnit.MILLISECONDS);
        if (part != null) {
          back.append(part);
        }
      }
      return back.toString();
    }

    @Override
    public void close() {
      channel.close().syncUninterruptibly();
    }
  }

  Client connect(SslContext clientContext) {
    return new Client(clientContext);
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
