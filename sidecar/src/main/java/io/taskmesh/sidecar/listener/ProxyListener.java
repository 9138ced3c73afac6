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
import java.net.InetSocketAddress;
import java.time.Duration;

/** A listening socket whose connections are sniffed, decoded as HTTP/2 and proxied stream by stream. */
public final class ProxyListener implements AutoCloseable {
  private final Channel serverChannel;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  private ProxyListener(NettyResources netty, String host, int port, ProxyChain chain, Duration drainTimeout) {
    ChannelInitializer<Http2StreamChannel> streams = new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.config().setAutoRead(false);
        stream.pipeline().addLast(new StreamProxyHandler(chain));
      }
    };
    this.serverChannel = new ServerBootstrap()
        .group(netty.acceptors(), netty.workers())
        .channel(netty.serverChannelType())
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            ch.pipeline().addLast(new ProtocolSniffer(
                () -> new ChannelHandler[] {Http2Codecs.server(drainTimeout), new Http2MultiplexHandler(streams)},
                () -> new ChannelHandler[] {new HttpServerCodec(), new Http1Rejection(chain.hop())}));
          }
        })
        .bind(host, port)
        .syncUninterruptibly()
        .channel();
  }

  public static ProxyListener bind(NettyResources netty, String host, int port, ProxyChain chain,
      Duration drainTimeout) {
    return new ProxyListener(netty, host, port, chain, drainTimeout);
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
