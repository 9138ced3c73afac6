package io.taskmesh.sidecar.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A bare HTTP/2 client for what well-behaved clients refuse to send, e.g. a header block larger than
 * the server's SETTINGS_MAX_HEADER_LIST_SIZE. Answers the first response frame (headers or reset).
 */
public final class RawHttp2Client implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel connection;

  public RawHttp2Client(int port) {
    connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().encoderIgnoreMaxHeaderListSize(true).build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, Object msg) {}
            }));
          }
        })
        .connect("127.0.0.1", port).syncUninterruptibly().channel();
  }

  public Http2StreamFrame send(Http2Headers headers) throws Exception {
    return send(headers, null);
  }

  /**
   * Sends the headers and, when {@code grpcMessage} is given, one DATA frame holding it as a gRPC
   * length-prefixed message that ends the request; answers the first response frame.
   */
  public Http2StreamFrame send(Http2Headers headers, byte[] grpcMessage) throws Exception {
    if (grpcMessage == null) {
      OpenRequest request = open(headers, true);
      return request.answer();
    }
    OpenRequest request = open(headers, false);
    request.finish(grpcMessage);
    return request.answer();
  }

  /** Sends only the headers (ending the request when {@code endStream}); the body may follow later. */
  public OpenRequest open(Http2Headers headers, boolean endStream) {
    CompletableFuture<Http2StreamFrame> first = new CompletableFuture<>();
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
        .handler(new SimpleChannelInboundHandler<Http2StreamFrame>() {
          @Override
          protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            if (frame instanceof Http2HeadersFrame || frame instanceof Http2ResetFrame) {
              first.complete(frame);
            }
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            first.completeExceptionally(new IllegalStateException("stream closed without an answer"));
          }
        })
        .open().syncUninterruptibly().getNow();
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream)).syncUninterruptibly();
    return new OpenRequest(stream, first);
  }

  /** A request whose headers went out: its body, and the first response frame. */
  public static final class OpenRequest {
    private final Http2StreamChannel stream;
    private final CompletableFuture<Http2StreamFrame> first;

    private OpenRequest(Http2StreamChannel stream, CompletableFuture<Http2StreamFrame> first) {
      this.stream = stream;
      this.first = first;
    }

    /** Sends one gRPC length-prefixed message in a DATA frame that ends the request. */
    public void finish(byte[] grpcMessage) {
      ByteBuf body = Unpooled.buffer(5 + grpcMessage.length)
          .writeByte(0).writeInt(grpcMessage.length).writeBytes(grpcMessage);
      stream.writeAndFlush(new DefaultHttp2DataFrame(body, true)).syncUninterruptibly();
    }

    public Http2StreamFrame answer() throws Exception {
      return first.get(30, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() {
    connection.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
