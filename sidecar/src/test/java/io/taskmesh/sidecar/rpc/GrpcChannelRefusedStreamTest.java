package io.taskmesh.sidecar.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.NettyResources;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A server that retires its first connection with a GOAWAY: a stream it says it never took is opened again on a
 * new connection, one it took is not (so no request reaches a server twice).
 */
class GrpcChannelRefusedStreamTest {
  private static final GrpcMethod<HealthCheckRequest, HealthCheckResponse> CHECK =
      GrpcMethod.of("grpc.health.v1.Health", "Check", HealthCheckResponse.parser());
  private static final Duration BOUND = Duration.ofSeconds(30);

  private final NettyResources netty = new NettyResources(1);
  private final NioEventLoopGroup serverLoop = new NioEventLoopGroup(1);
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger requestsTaken = new AtomicInteger();

  @AfterEach
  void stop() {
    netty.close();
    serverLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void aStreamTheServerNeverTookIsOpenedAgainOnANewConnection() {
    int port = start(false);
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", port)) {
      HealthCheckResponse answer = channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND);

      assertThat(answer.getStatus()).isEqualTo(ServingStatus.SERVING);
      assertThat(connections).hasValue(2);
      assertThat(requestsTaken).hasValue(1);
    }
  }

  @Test
  void aStreamTheServerTookIsNotSentAgain() {
    int port = start(true);
    try (GrpcChannel channel = GrpcChannel.plaintext(netty, "127.0.0.1", port)) {
      assertThatThrownBy(() -> channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), BOUND))
          .isInstanceOfSatisfying(GrpcStatusException.class,
              e -> assertThat(e.status().code()).isEqualTo(GrpcCode.UNAVAILABLE));
      assertThat(connections).hasValue(1);
      assertThat(requestsTaken).hasValue(1);
    }
  }

  /**
   * The first connection answers its first request with GOAWAY and then closes: with last stream 0 (not taken) or
   * the request's own stream (taken, then dropped unanswered). Later connections answer SERVING.
   */
  private int start(boolean firstConnectionTakesTheRequest) {
    Channel listening = new ServerBootstrap().group(serverLoop).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel connection) {
            boolean retiring = connections.incrementAndGet() == 1;
            connection.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                retiring ? new Retiring(firstConnectionTakesTheRequest) : new Serving());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    return ((InetSocketAddress) listening.localAddress()).getPort();
  }

  private final class Retiring extends ChannelInboundHandlerAdapter {
    private final boolean takes;

    Retiring(boolean takes) {
      this.takes = takes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame headers) {
          if (takes) {
            requestsTaken.incrementAndGet();
          }
          int lastStream = takes ? headers.stream().id() : 0;
          // closed a little later, once the client's frames behind the request are read: a close with unread
          // bytes would reset the connection, and the GOAWAY could be lost with it
          Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
          codec.goAway(ctx.pipeline().context(codec), lastStream, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
              ctx.newPromise());
          ctx.flush();
          ctx.executor().schedule(() -> ctx.close(), 300, TimeUnit.MILLISECONDS);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  private final class Serving extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame headers) {
          requestsTaken.incrementAndGet();
          ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
              .set("content-type", "application/grpc")).stream(headers.stream()));
          ByteBuf message = MessageDeframer.frame(
              HealthCheckResponse.newBuilder().setStatus(ServingStatus.SERVING).build(), ctx.alloc());
          ctx.write(new DefaultHttp2DataFrame(message).stream(headers.stream()));
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true)
              .stream(headers.stream()));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
