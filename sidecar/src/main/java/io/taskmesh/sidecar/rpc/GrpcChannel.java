package io.taskmesh.sidecar.rpc;

import com.google.protobuf.MessageLite;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.codec.Http2Codecs;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A gRPC client on the proxy's own Netty: one HTTP/2 connection to one server (h2c prior knowledge, or TLS with
 * ALPN h2), opened at the first call and again at the first call after it closed or the server sent GOAWAY, each
 * call one stream of it. There is no backoff here: a caller that retries (discovery) waits by its own rules, and a
 * caller that checks now (the health probe) connects now.
 */
public final class GrpcChannel implements AutoCloseable {
  private static final String USER_AGENT = "taskmesh-proxy";
  private static final int CONNECT_TIMEOUT_MILLIS = 5000;
  private final NettyResources netty;
  private final boolean ownsNetty;
  private final String host;
  private final int port;
  private final String authority;
  private final Optional<SslContext> tls;
  /** Guarded by this: the connection being opened or open, null before the first call. */
  private Future<Channel> connection;
  private boolean closed;

  private GrpcChannel(NettyResources netty, String host, int port, String authority, Optional<SslContext> tls) {
    this.ownsNetty = netty == null;
    this.netty = ownsNetty ? new NettyResources(1) : netty;
    this.host = host;
    this.port = port;
    this.authority = authority;
    this.tls = tls;
  }

  /**
   * Plaintext (h2c) to {@code host:port}.
   *
   * @param netty the event loops that carry the connection; null: one loop of its own, closed with the channel
   *     (for a client outside a proxy: tests, the bench)
   */
  public static GrpcChannel plaintext(NettyResources netty, String host, int port) {
    return new GrpcChannel(netty, host, port, host + ":" + port, Optional.empty());
  }

  /**
   * TLS to {@code host:port}, whose certificate must name {@code authority} (sent as SNI and {@code :authority}) and
   * satisfy {@code tls}'s trust manager; {@code tls} must offer ALPN h2.
   *
   * @param netty as for {@link #plaintext}
   */
  public static GrpcChannel tls(NettyResources netty, String host, int port, String authority, SslContext tls) {
    return new GrpcChannel(netty, host, port, authority, Optional.of(tls));
  }

  /** Parses {@code host:port} (IPv6 in brackets). */
  public static HostPort hostPort(String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw new IllegalArgumentException("'" + address + "' is not host:port");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new HostPort(host, Integer.parseInt(address.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + address + "' is not host:port (the port is not a number)");
    }
  }

  public record HostPort(String host, int port) {}

  /**
   * Starts a call: its request headers go out at once (with the stream), messages as {@link GrpcCall#send} gives
   * them. A connection that cannot be opened ends the call with UNAVAILABLE naming the address and why.
   */
  public <Q extends MessageLite, R extends MessageLite> GrpcCall<Q, R> call(GrpcMethod<Q, R> method,
      CallSettings settings, GrpcCall.Listener<R> listener) {
    GrpcCall<Q, R> call = new GrpcCall<>(method, listener, this::openStream);
    synchronized (this) {
      if (closed) {
        call.failedToOpen("the channel to " + authority + " is closed");
        return call;
      }
    }
    settings.deadline().ifPresent(deadline -> call.deadlineTimer(netty.workers().schedule(
        () -> call.expire("deadline of " + deadline.toMillis() + " ms passed calling " + method.path() + " on "
            + authority), deadline.toNanos(), TimeUnit.NANOSECONDS)));
    Http2Headers headers = requestHeaders(method, settings);
    call.onStream(stream -> stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false)));
    openStream(call);
    return call;
  }

  private void openStream(GrpcCall<?, ?> call) {
    Future<Channel> connecting;
    synchronized (this) {
      if (closed) {
        call.failedToOpen("the channel to " + authority + " is closed");
        return;
      }
      connecting = connection();
    }
    connecting.addListener(connected -> {
      if (!connected.isSuccess()) {
        call.failedToOpen(connected.cause().getMessage());
        return;
      }
      new Http2StreamChannelBootstrap(connecting.getNow()).handler(call.handler()).open().addListener(opened -> {
        if (opened.isSuccess()) {
          call.opened((Http2StreamChannel) opened.getNow());
        } else {
          call.failedToOpen("cannot open a stream to " + authority + ": " + opened.cause().getMessage());
        }
      });
    });
  }

  /** A unary call: completes with the one response, or fails with a {@link GrpcStatusException}. */
  public <Q extends MessageLite, R extends MessageLite> CompletableFuture<R> unary(GrpcMethod<Q, R> method,
      Q request, CallSettings settings) {
    CompletableFuture<R> result = new CompletableFuture<>();
    AtomicReference<R> response = new AtomicReference<>();
    GrpcCall<Q, R> call = call(method, settings, new GrpcCall.Listener<>() {
      @Override
      public void onMessage(R message) {
        response.set(message);
      }

      @Override
      public void onClose(GrpcStatus status) {
        if (!status.isOk()) {
          result.completeExceptionally(status.asException());
        } else if (response.get() == null) {
          result.completeExceptionally(new GrpcStatus(GrpcCode.INTERNAL, "no response to a unary call").asException());
        } else {
          result.complete(response.get());
        }
      }
    });
    call.send(request);
    call.halfClose();
    return result;
  }

  /** {@link #unary}, waiting for its end; so has a deadline. */
  public <Q extends MessageLite, R extends MessageLite> R blockingUnary(GrpcMethod<Q, R> method, Q request,
      Duration deadline) {
    try {
      return unary(method, request, CallSettings.deadline(deadline)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof GrpcStatusException status ? status
          : new GrpcStatus(GrpcCode.UNKNOWN, String.valueOf(e.getCause())).asException();
    }
  }

  private Http2Headers requestHeaders(GrpcMethod<?, ?> method, CallSettings settings) {
    Http2Headers headers = new DefaultHttp2Headers()
        .method("POST")
        .scheme(tls.isPresent() ? "https" : "http")
        .path(method.path())
        .authority(settings.authority().orElse(authority))
        .set("content-type", "application/grpc")
        .set("te", "trailers")
        .set("user-agent", USER_AGENT);
    // whole milliseconds, rounded up: a deadline of less than one is not "none"
    settings.deadline().ifPresent(deadline -> headers.set("grpc-timeout",
        Math.max(1, (deadline.toNanos() + 999_999) / 1_000_000) + "m"));
    for (Map.Entry<String, String> header : settings.metadata().entrySet()) {
      headers.add(header.getKey(), header.getValue());
    }
    return headers;
  }

  /** The open connection if it can take streams; otherwise a new one. Holding this. */
  private Future<Channel> connection() {
    if (connection != null && (!connection.isDone() || connection.isSuccess() && usable(connection.getNow()))) {
      return connection;
    }
    if (connection != null && connection.isSuccess()) {
      connection.getNow().close();
    }
    connection = connect();
    return connection;
  }

  private static boolean usable(Channel channel) {
    Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
    return channel.isActive() && codec != null && !codec.connection().goAwayReceived();
  }

  private Future<Channel> connect() {
    EventLoop loop = netty.workers().next();
    Promise<Channel> ready = loop.newPromise();
    String where = authority.equals(host + ":" + port) ? authority : authority + " (" + host + ":" + port + ")";
    new Bootstrap()
        .group(loop)
        .channel(netty.channelType())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel channel) {
            tls.ifPresent(context -> channel.pipeline().addLast(context.newHandler(channel.alloc(), authorityHost(), port)));
            channel.pipeline().addLast(Http2Codecs.client(), new Http2MultiplexHandler(new RefusePushedStreams()));
          }
        })
        .connect(host, port)
        .addListener(connected -> {
          Channel channel = ((io.netty.channel.ChannelFuture) connected).channel();
          if (!connected.isSuccess()) {
            ready.tryFailure(new java.io.IOException("cannot connect to " + where + ": " + connected.cause().getMessage(),
                connected.cause()));
            return;
          }
          SslHandler ssl = channel.pipeline().get(SslHandler.class);
          if (ssl == null) {
            ready.trySuccess(channel);
            return;
          }
          ssl.handshakeFuture().addListener(handshake -> {
            if (!handshake.isSuccess()) {
              ready.tryFailure(new java.io.IOException("TLS to " + where + " failed: "
                  + handshake.cause().getMessage(), handshake.cause()));
            } else if (!ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol())) {
              channel.close();
              ready.tryFailure(new java.io.IOException("TLS to " + where + " did not agree on HTTP/2 (ALPN h2)"));
            } else {
              ready.trySuccess(channel);
            }
          });
        });
    return ready;
  }

  private String authorityHost() {
    int colon = authority.lastIndexOf(':');
    return colon > 0 && authority.indexOf(']') < colon ? authority.substring(0, colon) : authority;
  }

  /** Closes the connection; calls in flight end UNAVAILABLE, later ones fail at once. */
  @Override
  public void close() {
    Future<Channel> open;
    synchronized (this) {
      closed = true;
      open = connection;
    }
    if (open != null) {
      open.addListener(done -> {
        if (done.isSuccess()) {
          open.getNow().close();
        }
      });
    }
    if (ownsNetty) {
      netty.close();
    }
  }

  /** A gRPC server never opens streams to its client. */
  private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }
}
