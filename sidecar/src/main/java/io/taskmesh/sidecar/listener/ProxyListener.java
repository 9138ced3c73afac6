package io.taskmesh.sidecar.listener;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.codec.Http1Rejection;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.ProtocolSniffer;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.capture.CapturedTraffic;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/** A listening socket whose connections are sniffed, decoded as HTTP/2 and proxied stream by stream. */
public final class ProxyListener implements AutoCloseable {
  private final Channel serverChannel;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  private ProxyListener(NettyResources netty, String host, int port, ProxyChain chain, Duration drainTimeout,
      CapturedTraffic capture) {
    ChannelInitializer<Http2StreamChannel> streams = streams(chain);
    this.serverChannel = new ServerBootstrap()
        .group(netty.acceptors(), netty.workers())
        .channel(netty.serverChannelType())
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            Optional<CapturedTraffic.Connection> captured = capture.accept(ch);
            if (captured.isPresent() && !captured.get().http2ToChain()) {
              ch.pipeline().addLast(captured.get().forwarder().get());
              return;
            }
            ChannelInitializer<Http2StreamChannel> connectionStreams = captured.flatMap(CapturedTraffic.Connection::router)
                .map(router -> streams(chain.routedBy(chain.direction(), chain.hop(), router))).orElse(streams);
            ch.pipeline().addLast(new ProtocolSniffer(
                () -> new ChannelHandler[] {Http2Codecs.server(drainTimeout), new Http2MultiplexHandler(connectionStreams)},
                () -> new ChannelHandler[] {new HttpServerCodec(), new Http1Rejection(chain.hop())},
                captured.<Supplier<ChannelHandler[]>>map(c -> () -> new ChannelHandler[] {c.forwarder().get()})
                    .orElse(null)));
          }
        })
        .bind(host, port)
        .syncUninterruptibly()
        .channel();
  }

  private static ChannelInitializer<Http2StreamChannel> streams(ProxyChain chain) {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.config().setAutoRead(false);
        stream.pipeline().addLast(new StreamProxyHandler(chain));
      }
    };
  }

  /**
   * Like {@link #bind(NettyResources, String, int, ProxyChain, Duration)}, for a listener the pod's capture
   * redirects to: {@code capture} says what becomes of each redirected connection.
   */
  public static ProxyListener bind(NettyResources netty, String host, int port, ProxyChain chain,
      Duration drainTimeout, CapturedTraffic capture) {
    return new ProxyListener(netty, host, port, chain, drainTimeout, capture);
  }

  public static ProxyListener bind(NettyResources netty, String host, int port, ProxyChain chain,
      Duration drainTimeout) {
    return new ProxyListener(netty, host, port, chain, drainTimeout, CapturedTraffic.NONE);
  }

  /** The handler that proxies one HTTP/2 stream by {@code chain}, for listeners that choose per stream (the gateway). */
  public static ChannelHandler streamHandler(ProxyChain chain) {
    return new StreamProxyHandler(chain);
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Stops accepting; open connections stay until {@link #closeConnections()}. */
  public void stopAccepting() {
    serverChannel.close().syncUninterruptibly();
  }

  public int openConnections() {
    return connections.size();
  }

  /**
   * Closes every connection gracefully: GOAWAY first, then the connection waits for its open streams up
   * to the drain timeout. Returns when all are closed.
   */
  public void closeConnections() {
    connections.close().awaitUninterruptibly();
  }

  @Override
  public void close() {
    stopAccepting();
    closeConnections();
  }
}
