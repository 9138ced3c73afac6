package io.taskmesh.sidecar.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.config.UpstreamConnectionBudgets;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.Http2Keepalive;
import java.time.Duration;
import io.taskmesh.sidecar.discovery.EndpointAddress;

/**
 * Opens HTTP/2 connections (h2c prior knowledge) to endpoints, with keepalive PINGs when the budgets ask for
 * them, so a silently dead endpoint's connection is closed instead of holding streams.
 */
public final class UpstreamConnector {
  private final NettyResources netty;
  private final UpstreamConnectionBudgets budgets;
  private final Runnable onKeepaliveTimeout;

  /** Without keepalive: for the local app on loopback (a grpc-java server takes idle PINGs as abuse). */
  public UpstreamConnector(NettyResources netty) {
    this(netty, new UpstreamConnectionBudgets(Duration.ZERO, Duration.ZERO), () -> { });
  }

  /** @param onKeepaliveTimeout told when a connection is closed because its endpoint stopped answering */
  public UpstreamConnector(NettyResources netty, UpstreamConnectionBudgets budgets, Runnable onKeepaliveTimeout) {
    this.netty = netty;
    this.budgets = budgets;
    this.onKeepaliveTimeout = onKeepaliveTimeout;
  }

  /** Connects on {@code loop}, so the connection's I/O runs on the thread of the streams that use it. */
  ChannelFuture connect(EndpointAddress address, EventLoop loop, Runnable onGoAway) {
    return new Bootstrap()
        .group(loop)
        .channel(netty.channelType())
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (Http2Keepalive.enabled(budgets.keepaliveInterval())) {
              ch.pipeline().addLast(new Http2Keepalive(budgets.keepaliveInterval(), budgets.keepaliveTimeout(), onKeepaliveTimeout));
            }
            ch.pipeline().addLast(Http2Codecs.client());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2GoAwayFrame) {
                  onGoAway.run();
                }
                io.netty.util.ReferenceCountUtil.release(msg);
              }
            });
          }
        })
        .connect(address.host(), address.port());
  }
}
