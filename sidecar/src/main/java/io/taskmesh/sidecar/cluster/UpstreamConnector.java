package io.taskmesh.sidecar.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.config.UpstreamConnectionBudgets;
import io.taskmesh.sidecar.codec.ConnectionWindow;
import io.taskmesh.sidecar.codec.ConsolidatedFlush;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.Http2Keepalive;
import java.time.Duration;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import io.taskmesh.sidecar.identity.MeshTls;
import io.taskmesh.sidecar.identity.MeshTlsContexts;
import io.taskmesh.sidecar.identity.UpstreamTls;
import io.netty.util.concurrent.Promise;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * Opens HTTP/2 connections to endpoints, with keepalive PINGs when the budgets ask for them, so a silently
 * dead endpoint's connection is closed instead of holding streams. With a workload identity, a meshed endpoint
 * (discovery named its identity) is reached over mTLS and must prove that identity; any other endpoint is
 * reached in plaintext (h2c prior knowledge), and each such connection is counted.
 *
 * <p>A connection's receive window is the {@code maxConnectionBufferBytes} of the listener whose calls it carries,
 * and at least two of its streams' windows: it holds the answers of many callers' streams at once, which a connection
 * at twice a stream's window (Netty's own choice) let only two of run at full speed. Answers are consumed as they are
 * passed on to their callers, so that is also what one upstream connection can make the proxy hold.
 */
public final class UpstreamConnector {
  private final NettyResources netty;
  private final UpstreamConnectionBudgets budgets;
  private final Runnable onKeepaliveTimeout;
  private final Optional<MeshTlsContexts> tls;
  private final Runnable onPlaintext;
  private final int connectionWindowBytes;

  /** For the local app with the default inbound budgets. */
  public UpstreamConnector(NettyResources netty) {
    this(netty, ListenerBudgets.INBOUND);
  }

  /**
   * Without keepalive: for the local app on loopback (a grpc-java server takes idle PINGs as abuse).
   *
   * @param listener the budgets of the listener whose calls these connections carry
   */
  public UpstreamConnector(NettyResources netty, ListenerBudgets listener) {
    this(netty, listener, new UpstreamConnectionBudgets(Duration.ZERO, Duration.ZERO), () -> { }, Optional.empty(),
        () -> { });
  }

  /**
   * @param listener the budgets of the listener whose calls these connections carry
   * @param onKeepaliveTimeout told when a connection is closed because its endpoint stopped answering
   * @param tls the proxy's certificate in force, when it has a workload identity
   * @param onPlaintext told of every connection opened without TLS
   */
  public UpstreamConnector(NettyResources netty, ListenerBudgets listener, UpstreamConnectionBudgets budgets,
      Runnable onKeepaliveTimeout, Optional<MeshTlsContexts> tls, Runnable onPlaintext) {
    this.netty = netty;
    this.connectionWindowBytes = Math.max(listener.maxConnectionBufferBytes(), 2 * Http2Codecs.INITIAL_WINDOW_SIZE);
    this.budgets = budgets;
    this.onKeepaliveTimeout = onKeepaliveTimeout;
    this.tls = tls;
    this.onPlaintext = onPlaintext;
  }

  /**
   * Connects on {@code loop}, so the connection's I/O runs on the thread of the streams that use it. The future
   * succeeds once the connection can carry streams: for a meshed endpoint, once it has proved its identity.
   */
  ChannelFuture connect(EndpointAddress address, EventLoop loop, Runnable onGoAway) {
    Promise<Void> verified = loop.newPromise();
    ChannelFuture connected = new Bootstrap()
        .group(loop)
        .channel(netty.channelType())
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (!secure(ch, address, verified)) {
              return;
            }
            if (Http2Keepalive.enabled(budgets.keepaliveInterval())) {
              ch.pipeline().addLast(new Http2Keepalive(budgets.keepaliveInterval(), budgets.keepaliveTimeout(), onKeepaliveTimeout));
            }
            Http2FrameCodec codec = Http2Codecs.client();
            ch.pipeline().addLast(new ConsolidatedFlush(), codec, new ConnectionWindow(codec, connectionWindowBytes));
            ch.pipeline().addLast(new UpstreamStreams(onGoAway));
          }
        })
        .connect(address.host(), address.port());
    ChannelPromise usable = connected.channel().newPromise();
    connected.addListener(done -> {
      if (!done.isSuccess()) {
        usable.tryFailure(done.cause());
        return;
      }
      verified.addListener(proved -> {
        if (proved.isSuccess()) {
          usable.trySuccess();
        } else {
          usable.tryFailure(proved.cause());
        }
      });
    });
    return usable;
  }

  /**
   * Puts mTLS at the front of a meshed endpoint's connection, or counts a plaintext one; {@code verified}
   * completes when the connection may carry streams. A meshed endpoint before the first certificate has arrived
   * is not reached at all (never in plaintext): false, and the connection is closed.
   */
  private boolean secure(SocketChannel ch, EndpointAddress address, Promise<Void> verified) {
    if (address.identity().isEmpty() || tls.isEmpty()) {
      onPlaintext.run();
      return verified.trySuccess(null);
    }
    Optional<MeshTls> current = tls.get().current();
    if (current.isEmpty()) {
      verified.tryFailure(new SSLException("no workload certificate yet to reach meshed endpoint " + address));
      ch.close();
      return false;
    }
    UpstreamTls.install(ch, current.get(), address.host(), address.port(), address.identity().get())
        .addListener(done -> {
          if (done.isSuccess()) {
            verified.trySuccess(null);
          } else {
            verified.tryFailure(done.cause());
          }
        });
    return true;
  }
}
