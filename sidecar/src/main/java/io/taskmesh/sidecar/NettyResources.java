package io.taskmesh.sidecar;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * The event loops and socket types of one proxy: epoll when the platform has it, one loop per core. The loops
 * also accept (a listener's accepts are few next to its reads) and carry the proxy's own gRPC clients (discovery,
 * the issuer, the app's health probe, reflection: {@code rpc/GrpcChannel}), so the proxy runs no event loop thread
 * beyond one per core (each thread is a stack and native memory in every pod).
 */
public final class NettyResources implements AutoCloseable {
  private final boolean epoll;
  private final EventLoopGroup workers;

  public NettyResources(int workerThreads) {
    this.epoll = Epoll.isAvailable();
    IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.workers = new MultiThreadIoEventLoopGroup(workerThreads, factory);
  }

  public static NettyResources sizedToCores() {
    return new NettyResources(Runtime.getRuntime().availableProcessors());
  }

  /** Where listeners accept: the same loops as their connections. */
  public EventLoopGroup acceptors() {
    return workers;
  }

  public EventLoopGroup workers() {
    return workers;
  }

  public Class<? extends ServerSocketChannel> serverChannelType() {
    return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public Class<? extends SocketChannel> channelType() {
    return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  @Override
  public void close() {
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
