package io.taskmesh.sidecar.listener;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.NettyResources;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A listening socket whose every connection is held to its listener's {@link ListenerBudgets}: at most
 * {@code maxConnections} open (the next is closed at once), and the time budgets of {@link ConnectionBudgets}.
 * What a connection speaks is added by {@code protocols}, after the budgets.
 */
public final class BudgetedServer implements AutoCloseable {
  private final Channel serverChannel;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final AtomicInteger open = new AtomicInteger();
  private final Duration drainTimeout;

  public BudgetedServer(NettyResources netty, String host, int port, ListenerBudgets budgets, BudgetCounter counter,
      Duration drainTimeout, Consumer<ChannelPipeline> protocols) {
    this.drainTimeout = drainTimeout;
    this.serverChannel = new ServerBootstrap()
        .group(netty.acceptors(), netty.workers())
        .channel(netty.serverChannelType())
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (open.incrementAndGet() > budgets.maxConnections()) {
              open.decrementAndGet();
              counter.exceeded("max_connections");
              ch.close();
              return;
            }
            ch.closeFuture().addListener(closed -> open.decrementAndGet());
            connections.add(ch);
            ch.pipeline().addLast(new ConnectionBudgets(budgets, counter));
            protocols.accept(ch.pipeline());
          }
        })
        .bind(host, port)
        .syncUninterruptibly()
        .channel();
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** The connections open now. */
  public Iterable<Channel> connections() {
    return connections;
  }

  public int openConnections() {
    return open.get();
  }

  /** Stops accepting; open connections stay until {@link #closeConnections()}. */
  public void stopAccepting() {
    serverChannel.close().syncUninterruptibly();
  }

  /**
   * Drains every connection: HTTP/2 ones get GOAWAY and end once their streams have, HTTP/1.1 ones once the
   * request in progress is answered; whatever is still open after the drain timeout is closed. Returns when
   * all are closed.
   */
  public void closeConnections() {
    for (Channel connection : connections) {
      connection.eventLoop().execute(() -> {
        ConnectionBudgets budgets = connection.pipeline().get(ConnectionBudgets.class);
        if (budgets == null) {
          connection.close();
        } else {
          budgets.drain();
        }
      });
    }
    connections.newCloseFuture().awaitUninterruptibly(drainTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    connections.close().awaitUninterruptibly(); // what is left after the drain timeout is cut
  }

  @Override
  public void close() {
    stopAccepting();
    closeConnections();
  }
}
