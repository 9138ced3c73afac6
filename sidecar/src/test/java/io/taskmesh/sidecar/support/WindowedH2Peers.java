package io.taskmesh.sidecar.support;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Both ends of a flow-controlled upload through a proxy, as plain Netty HTTP/2 with every window in the test's hands.
 * The {@link Reader} is a gRPC-shaped server on 127.0.0.1 that gives its window back only as fast as the test lets
 * it (not at all, at a rate, or at once) and answers each upload when its body has ended. The {@link Uploader} is a
 * client that opens streams on one connection and sends each a body as fast as its windows allow, counting the bytes
 * that left for the socket: what the proxy let it send.
 */
public final class WindowedH2Peers {
  private WindowedH2Peers() {}

  /** The path the reader answers; others get UNIMPLEMENTED at once (the proxy's reflection query to its app). */
  public static final String PATH = "/flood.Flood/Sink";

  public static final class Reader implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger answered = new AtomicInteger();
    private final List<Pending> unread = new ArrayList<>();
    private final List<ChannelHandlerContext> connections = new ArrayList<>();
    /** Bytes the reader gives back per {@code readEvery}; 0: none, {@code Long.MAX_VALUE}: everything at once. */
    private long readBytes;

    private record Pending(ChannelHandlerContext ctx, Http2FrameStream stream, int bytes) {}

    /** Starts not reading at all. */
    public Reader() {
      server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Handler());
            }
          })
          .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public int port() {
      return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    /** Body bytes of {@link #PATH} uploads that reached the reader. */
    public long received() {
      return received.get();
    }

    /** Uploads answered: their bodies had ended. */
    public int answered() {
      return answered.get();
    }

    /** From now on gives back every byte as it arrives, and at once what it held back. */
    public void readEverything() {
      group.next().execute(() -> {
        readBytes = Long.MAX_VALUE;
        giveBack(Long.MAX_VALUE);
      });
    }

    /** Gives back {@code bytes} of what it holds every {@code periodMillis}: a slow reader. */
    public void readSlowly(long bytes, long periodMillis) {
      group.next().scheduleAtFixedRate(() -> giveBack(bytes), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    private void giveBack(long budget) {
      long left = budget;
      while (!unread.isEmpty() && left > 0) {
        Pending next = unread.remove(0);
        int now = (int) Math.min(next.bytes(), left);
        next.ctx().write(new DefaultHttp2WindowUpdateFrame(now).stream(next.stream()));
        if (now < next.bytes()) {
          unread.add(0, new Pending(next.ctx(), next.stream(), next.bytes() - now));
        }
        left -= now;
      }
      connections.forEach(ChannelHandlerContext::flush);
    }

    @Override
    public void close() {
      server.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
      private final Set<Integer> uploads = new HashSet<>();

      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        connections.add(ctx);
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          if (msg instanceof Http2HeadersFrame headers && headers.stream() != null && !uploads.contains(headers.stream().id())) {
            if (PATH.contentEquals(headers.headers().path())) {
              uploads.add(headers.stream().id());
            } else {
              ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                  .set("content-type", "application/grpc").set("grpc-status", "12"), true).stream(headers.stream()));
            }
          } else if (msg instanceof Http2DataFrame data) {
            boolean upload = uploads.contains(data.stream().id());
            if (upload) {
              received.addAndGet(data.content().readableBytes());
            }
            if (!upload || readBytes == Long.MAX_VALUE) {
              ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(data.stream()));
            } else if (data.initialFlowControlledBytes() > 0) {
              unread.add(new Pending(ctx, data.stream(), data.initialFlowControlledBytes()));
            }
            if (upload && data.isEndStream()) {
              answer(ctx, data.stream());
            }
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      private void answer(ChannelHandlerContext ctx, Http2FrameStream stream) {
        answered.incrementAndGet();
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
            .set("content-type", "application/grpc")).stream(stream));
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true)
            .stream(stream));
      }
    }
  }

  public static final class Uploader implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel connection;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicInteger answered = new AtomicInteger();

    public Uploader(int port) {
      connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                  new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
            }
          })
          .connect("127.0.0.1", port).syncUninterruptibly().channel();
    }

    /**
     * Opens {@code streams} uploads to {@code authority}, each one gRPC message of {@code messageBytes}, sent in
     * DATA frames of {@code frameBytes}, the last ending the stream.
     */
    public void upload(int streams, String authority, int messageBytes, int frameBytes) {
      for (int i = 0; i < streams; i++) {
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(new Answers())
            .open().syncUninterruptibly().getNow();
        Http2Headers headers = new DefaultHttp2Headers().method("POST").scheme("http").authority(authority).path(PATH)
            .set("content-type", "application/grpc").set("te", "trailers");
        stream.write(new DefaultHttp2HeadersFrame(headers, false));
        ByteBuf body = Unpooled.buffer(5 + messageBytes).writeByte(0).writeInt(messageBytes).writeZero(messageBytes);
        while (body.isReadable()) {
          ByteBuf frame = body.readRetainedSlice(Math.min(frameBytes, body.readableBytes()));
          int bytes = frame.readableBytes();
          stream.write(new DefaultHttp2DataFrame(frame, !body.isReadable())).addListener(written -> {
            if (written.isSuccess()) {
              sent.addAndGet(bytes);
            }
          });
        }
        body.release();
        stream.flush();
      }
    }

    /** Body bytes that left for the socket: the proxy's windows let them go. */
    public long sent() {
      return sent.get();
    }

    /** Uploads answered with their trailers. */
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
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame headers && headers.isEndStream()
            && "0".contentEquals(String.valueOf(headers.headers().get("grpc-status")))) {
          answered.incrementAndGet();
        }
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
