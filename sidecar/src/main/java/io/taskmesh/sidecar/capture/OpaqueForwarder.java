package io.taskmesh.sidecar.capture;

import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Queue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards a captured connection's bytes untouched to where it was going (a database, any TCP, HTTP/1.1): one
 * connection out per connection in, bytes counted, nothing parsed. As in Netty's proxy example, each side reads
 * its next chunk only once the other side has written the last one, so a slow reader slows the writer down
 * instead of filling memory. Either side closing closes the other after what was read has been written.
 */
public final class OpaqueForwarder extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(OpaqueForwarder.class);

  private final InetSocketAddress target;
  private final Class<? extends SocketChannel> channelType;
  private final TcpMetrics metrics;
  private final Counter sent;
  private final Counter received;
  private final Queue<Object> early = new ArrayDeque<>();
  private Channel upstream;

  public OpaqueForwarder(InetSocketAddress target, Class<? extends SocketChannel> channelType, TcpMetrics metrics) {
    this.target = target;
    this.channelType = channelType;
    this.metrics = metrics;
    this.sent = metrics.sentBytes(target.getPort());
    this.received = metrics.receivedBytes(target.getPort());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    Channel downstream = ctx.channel();
    downstream.config().setAutoRead(false);
    ChannelFuture connecting = new Bootstrap()
        .group(downstream.eventLoop())
        .channel(channelType)
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new BackToClient(downstream))
        .connect(target);
    upstream = connecting.channel();
    connecting.addListener((ChannelFutureListener) connected -> {
      if (!connected.isSuccess()) {
        metrics.connections(target.getPort(), "connect_failed").increment();
        log.warn("event=tcp_connect_failed target={} error=\"{}\"", target, connected.cause().getMessage());
        early.forEach(ReferenceCountUtil::release);
        early.clear();
        downstream.close();
        return;
      }
      metrics.connections(target.getPort(), "forwarded").increment();
      Object next;
      while ((next = early.poll()) != null) {
        count(sent, next);
        upstream.write(next);
      }
      upstream.flush();
      downstream.read();
      upstream.read();
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!upstream.isActive()) {
      early.add(msg); // the bytes the sniffer looked at arrive before the connection out is up
      return;
    }
    relay(ctx, msg, sent, upstream);
  }

  /** Writes one read to the other side; the next read waits for it to be written (backpressure). */
  private static void relay(ChannelHandlerContext from, Object msg, Counter counter, Channel to) {
    count(counter, msg);
    to.writeAndFlush(msg).addListener((ChannelFutureListener) written -> {
      if (written.isSuccess()) {
        from.channel().read();
      } else {
        written.channel().close();
        from.channel().close();
      }
    });
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closeAfterFlush(upstream);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeAfterFlush(ctx.channel());
  }

  private static void count(Counter counter, Object msg) {
    if (msg instanceof ByteBuf bytes) {
      counter.increment(bytes.readableBytes());
    }
  }

  static void closeAfterFlush(Channel channel) {
    if (channel != null && channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** The destination's bytes, back to the client. */
  private final class BackToClient extends ChannelInboundHandlerAdapter {
    private final Channel downstream;

    BackToClient(Channel downstream) {
      this.downstream = downstream;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      relay(ctx, msg, received, downstream);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeAfterFlush(downstream);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeAfterFlush(ctx.channel());
    }
  }
}
