package io.taskmesh.sidecar.gateway;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.ProtocolSniffer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The gateway port: HTTP/1.1 requests are transcoded; HTTP/2 (h2c prior knowledge) streams are transcoded
 * or, when they are gRPC, proxied like outbound calls. The same limits as the proxy's other listeners.
 */
final class GatewayListener implements AutoCloseable {
  /** Largest JSON request body; above it the client gets 413. */
  static final int MAX_BODY_BYTES = 1024 * 1024;
  private static final int MAX_INITIAL_LINE = 8 * 1024;

  private final Channel serverChannel;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  GatewayListener(NettyResources netty, String host, int port, GatewayContext gateway,
      Supplier<ChannelHandler> grpcProxy, Duration drainTimeout) {
    ChannelInitializer<Http2StreamChannel> streams = new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.config().setAutoRead(false);
        stream.pipeline().addLast(new StreamDispatcher(gateway, grpcProxy));
      }
    };
    serverChannel = new ServerBootstrap()
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
                () -> new ChannelHandler[] {
                  new HttpServerCodec(MAX_INITIAL_LINE, Http2Codecs.MAX_HEADER_LIST_SIZE, 8192),
                  new HttpObjectAggregator(MAX_BODY_BYTES),
                  // holds a pipelined request until the one before it is answered (reads are off meanwhile)
                  new FlowControlHandler(),
                  new TranscodingHandler(gateway)}));
          }
        })
        .bind(host, port)
        .syncUninterruptibly()
        .channel();
  }

  int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  void stopAccepting() {
    serverChannel.close().syncUninterruptibly();
  }

  void closeConnections() {
    connections.close().awaitUninterruptibly();
  }

  @Override
  public void close() {
    stopAccepting();
    closeConnections();
  }
}
