package io.taskmesh.sidecar.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a real event loop (an in-JVM channel pair), with a recorder in front of the handler that sees what reaches
 * the socket: the writes in order and the flushes.
 */
class ConsolidatedFlushTest {
  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;

  private final EventLoopGroup group = new DefaultEventLoopGroup(1);
  private final SocketRecorder socket = new SocketRecorder();
  private Channel connection;

  @BeforeEach
  void connect() throws Exception {
    LocalAddress address = new LocalAddress("consolidated-flush-" + UUID.randomUUID());
    new ServerBootstrap().group(group).channel(LocalServerChannel.class)
        .childHandler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
          }
        })
        .bind(address).sync();
    connection = new Bootstrap().group(group).channel(LocalChannel.class)
        .handler(new ChannelInitializer<LocalChannel>() {
          @Override
          protected void initChannel(LocalChannel ch) {
            ch.pipeline().addLast(socket, new ConsolidatedFlush(), Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
          }
        })
        .connect(address).sync().channel();
  }

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void framesOfSeveralStreamsWrittenInOneTurnLeaveInOneSocketWrite() throws Exception {
    Http2StreamChannel a = open();
    Http2StreamChannel b = open();
    onLoop(() -> {
      socket.clear();
      a.writeAndFlush(new DefaultHttp2HeadersFrame(request(), false));
      a.writeAndFlush(new DefaultHttp2DataFrame(payload(100, 'a'), true));
      b.writeAndFlush(new DefaultHttp2HeadersFrame(request(), true));
      assertThat(socket.flushes).as("flushed before the turn ended").isZero();
    });
    afterTurns();
    onLoop(() -> {
      assertThat(socket.flushes).isEqualTo(1);
      assertThat(frameTypes(socket.written)).containsExactly(HEADERS, DATA, HEADERS);
    });
  }

  /**
   * The earlier flush-consolidation bug, replayed: a DATA frame's 9-byte header crosses the connection's high-water
   * mark; a flush at that moment (Netty's FlushConsolidationHandler flushes on the writability change) would
   * complete another stream's earlier write, whose listener (a proxy relaying that stream's next frame) writes
   * trailers before the DATA frame's payload.
   */
  @Test
  void aConnectionTurningUnwritableMidFrameLetsNoOtherStreamWriteIntoThatFrame() throws Exception {
    Http2StreamChannel a = open();
    Http2StreamChannel b = open();
    onLoop(() -> {
      a.writeAndFlush(new DefaultHttp2HeadersFrame(request(), false));
      b.writeAndFlush(new DefaultHttp2HeadersFrame(request(), false));
    });
    afterTurns();
    boolean[] turnedUnwritable = new boolean[1];
    onLoop(() -> {
      socket.clear();
      b.writeAndFlush(new DefaultHttp2DataFrame(payload(500, 'b'), false)).addListener((ChannelFutureListener) done ->
          b.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true)));
      long pending = connection.unsafe().outboundBuffer().totalPendingWriteBytes();
      // the next frame header written (9 bytes plus the outbound buffer's per-entry overhead) crosses the mark
      connection.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1, (int) pending + 20));
      a.writeAndFlush(new DefaultHttp2DataFrame(payload(2_000, 'a'), true));
      turnedUnwritable[0] = !connection.isWritable();
    });
    afterTurns();
    onLoop(() -> {
      assertThat(turnedUnwritable[0]).isTrue();
      assertThat(frameTypes(socket.written)).containsExactly(DATA, DATA, HEADERS);
    });
  }

  private Http2StreamChannel open() {
    return new Http2StreamChannelBootstrap(connection).handler(new ChannelInboundHandlerAdapter()).open()
        .syncUninterruptibly().getNow();
  }

  private void onLoop(Runnable work) throws Exception {
    connection.eventLoop().submit(work).get(10, TimeUnit.SECONDS);
  }

  /** Lets the flush tasks queued so far, and those they queue, run. */
  private void afterTurns() throws Exception {
    onLoop(() -> { });
    onLoop(() -> { });
  }

  private static Http2Headers request() {
    return new DefaultHttp2Headers().method("POST").scheme("http").authority("svc").path("/pkg.Svc/Call");
  }

  private static ByteBuf payload(int bytes, char fill) {
    byte[] content = new byte[bytes];
    java.util.Arrays.fill(content, (byte) fill);
    return Unpooled.wrappedBuffer(content);
  }

  /**
   * The types of the frames {@code bytes} holds, which must be whole frames end to end, each DATA payload of one
   * stream's fill byte throughout: a frame written into another's middle breaks one or the other.
   */
  private static List<Integer> frameTypes(ByteBuf bytes) {
    List<Integer> types = new ArrayList<>();
    while (bytes.isReadable()) {
      assertThat(bytes.readableBytes()).as("a whole frame header").isGreaterThanOrEqualTo(9);
      int length = bytes.readUnsignedMedium();
      int type = bytes.readUnsignedByte();
      bytes.skipBytes(5); // flags, stream id
      assertThat(type).as("a known frame type").isBetween(0, 9);
      assertThat(bytes.readableBytes()).as("a whole frame payload").isGreaterThanOrEqualTo(length);
      ByteBuf payload = bytes.readSlice(length);
      if (type == DATA) {
        byte fill = payload.getByte(0);
        for (int i = 0; i < length; i++) {
          assertThat(payload.getByte(i)).as("DATA payload byte %d", i).isEqualTo(fill);
        }
      }
      types.add(type);
    }
    return types;
  }

  /** First in the pipeline, where the socket would be: copies every write in order, counts the flushes. */
  private static final class SocketRecorder extends ChannelOutboundHandlerAdapter {
    private final ByteBuf written = Unpooled.buffer();
    private int flushes;

    void clear() {
      written.clear();
      flushes = 0;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf bytes) {
        written.writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
      }
      ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes++;
      ctx.flush();
    }
  }
}
