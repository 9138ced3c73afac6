package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.channel.Channel;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.codec.Http1Rejection;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.ProtocolSniffer;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.capture.CapturedTraffic;
import io.taskmesh.sidecar.overload.OverloadManager;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A listening socket whose connections are sniffed, decoded as HTTP/2 and proxied stream by stream, within the
 * listener's budgets: each connection's {@link CallerStreams} relays its streams' frames, no channel per stream;
 * each new stream first passes the {@link StreamGate} (overload, internal headers).
 */
public final class ProxyListener implements AutoCloseable {
  private final BudgetedServer server;

  private ProxyListener(NettyResources netty, String host, int port, ProxyChain chain, ListenerBudgets budgets,
      BudgetCounter counter, OverloadManager overload, Predicate<SocketAddress> meshPeer, Duration drainTimeout,
      CapturedTraffic capture, Optional<Supplier<ChannelHandler>> transportSecurity) {
    StreamGate gate = new StreamGate(chain.hop(), overload, counter.listener(), meshPeer);
    this.server = new BudgetedServer(netty, host, port, budgets, counter, drainTimeout, pipeline -> {
      transportSecurity.ifPresent(security -> pipeline.addLast("transport-security", security.get()));
      Optional<CapturedTraffic.Connection> captured = capture.accept(pipeline.channel());
      if (captured.isPresent() && !captured.get().http2ToChain()) {
        pipeline.addLast(opaque(pipeline, captured.get().forwarder()).get());
        return;
      }
      ProxyChain connectionChain = captured.flatMap(CapturedTraffic.Connection::router)
          .map(router -> chain.routedBy(chain.direction(), chain.hop(), router))
          .orElse(chain);
      pipeline.addLast(new ProtocolSniffer(
          () -> Http2Codecs.serverHandlers(budgets, drainTimeout, counter::exceeded,
              new CallerStreams(connectionChain, gate)),
          () -> new ChannelHandler[] {new HttpServerCodec(), new Http1Activity(), new Http1Rejection(chain.hop())},
          captured.<Supplier<ChannelHandler[]>>map(c -> () -> new ChannelHandler[] {opaque(pipeline, c.forwarder()).get()})
              .orElse(null)));
    });
  }

  /**
   * A captured connection forwarded untouched is the app's own TCP (a database pool, say): the HTTP budgets of
   * {@link ConnectionBudgets} (header timeout, idle timeout, ...) do not apply to it, only the connection cap.
   */
  private static Supplier<ChannelHandler> opaque(ChannelPipeline pipeline,
      Supplier<ChannelHandler> forwarder) {
    return () -> {
      if (pipeline.get(ConnectionBudgets.class) != null) {
        pipeline.remove(ConnectionBudgets.class);
      }
      return forwarder.get();
    };
  }

  /**
   * Like {@link #bind(NettyResources, String, int, ProxyChain, ListenerBudgets, BudgetCounter, OverloadManager,
   * Predicate, Duration)}, for a listener the pod's capture redirects to: {@code capture} says what becomes of each
   * redirected connection.
   *
   * @param transportSecurity the first handler of every connection, before the protocol is sniffed (inbound mTLS)
   */
  public static ProxyListener bind(NettyResources netty, String host, int port, ProxyChain chain,
      ListenerBudgets budgets, BudgetCounter counter, OverloadManager overload, Predicate<SocketAddress> meshPeer,
      Duration drainTimeout, CapturedTraffic capture, Optional<Supplier<ChannelHandler>> transportSecurity) {
    return new ProxyListener(netty, host, port, chain, budgets, counter, overload, meshPeer, drainTimeout, capture,
        transportSecurity);
  }

  public static ProxyListener bind(NettyResources netty, String host, int port, ProxyChain chain,
      ListenerBudgets budgets, BudgetCounter counter, OverloadManager overload, Predicate<SocketAddress> meshPeer,
      Duration drainTimeout) {
    return new ProxyListener(netty, host, port, chain, budgets, counter, overload, meshPeer, drainTimeout,
        CapturedTraffic.NONE, Optional.empty());
  }

  /**
   * The handler that proxies one HTTP/2 stream channel by {@code chain}, for a listener that keeps a channel per
   * stream and chooses per stream what to do with it (the gateway, which transcodes some and proxies gRPC ones).
   */
  public static ChannelHandler streamHandler(ProxyChain chain) {
    return new StreamProxyHandler(chain);
  }

  /** Streams in progress on this listener's HTTP/2 connections now, each counted on its connection's event loop. */
  public int relayedStreams() {
    int sum = 0;
    for (Channel connection : server.connections()) {
      CallerStreams streams = connection.pipeline().get(CallerStreams.class);
      if (streams != null) {
        sum += connection.eventLoop().submit(streams::size).syncUninterruptibly().getNow();
      }
    }
    return sum;
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
