package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.codec.Http1Rejection;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.ProtocolSniffer;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.overload.OverloadManager;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * A listening socket whose connections are sniffed, decoded as HTTP/2 and proxied stream by stream, within the
 * listener's budgets; each stream first passes the {@link StreamGate} (overload, internal headers).
 */
public final class ProxyListener implements AutoCloseable {
  private final BudgetedServer server;

  private ProxyListener(NettyResources netty, String host, int port, ProxyChain chain, ListenerBudgets budgets,
      BudgetCounter counter, OverloadManager overload, Predicate<SocketAddress> meshPeer, Duration drainTimeout) {
    ChannelInitializer<Http2StreamChannel> streams = new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.config().setAutoRead(false);
        stream.pipeline().addLast(new StreamGate(overload, counter.listener(), chain.hop(), meshPeer),
            new StreamProxyHandler(chain));
      }
    };
    this.server = new BudgetedServer(netty, host, port, budgets, counter, drainTimeout, pipeline ->
        pipeline.addLast(new ProtocolSniffer(
            () -> Http2Codecs.serverHandlers(budgets, drainTimeout, counter::exceeded, new Http2MultiplexHandler(streams)),
            () -> new ChannelHandler[] {new HttpServerCodec(), new Http1Activity(), new Http1Rejection(chain.hop())})));
  }

  public static ProxyListener bind(NettyResources netty, String host, int port, ProxyChain chain,
      ListenerBudgets budgets, BudgetCounter counter, OverloadManager overload, Predicate<SocketAddress> meshPeer,
      Duration drainTimeout) {
    return new ProxyListener(netty, host, port, chain, budgets, counter, overload, meshPeer, drainTimeout);
  }

  /** The handler that proxies one HTTP/2 stream by {@code chain}, for listeners that choose per stream (the gateway). */
  public static ChannelHandler streamHandler(ProxyChain chain) {
    return new StreamProxyHandler(chain);
  }

  public int port() {
    return server.port();
  }

  /** Stops accepting; open connections stay until {@link #closeConnections()}. */
  public void stopAccepting() {
    server.stopAccepting();
  }

  public int openConnections() {
    return server.openConnections();
  }

  /**
   * Drains every connection: GOAWAY, then each waits for its open streams (an HTTP/1.1 one for its request) up to
   * the drain timeout. Returns when all are closed.
   */
  public void closeConnections() {
    server.closeConnections();
  }

  @Override
  public void close() {
    server.close();
  }
}
