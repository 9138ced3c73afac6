package io.taskmesh.sidecar.codec;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 keepalive for one connection, in either direction: when nothing was read for {@code interval} a PING
 * is sent; when nothing at all (the PING's ack included) arrives {@code timeout} after it, the peer is taken for
 * dead and the connection is closed, so its streams fail now instead of hanging. Sits in front of the
 * {@code Http2FrameCodec}, where every byte read passes.
 */
public final class Http2Keepalive extends ChannelDuplexHandler {
  private static final long MAX_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final long intervalNanos;
  private final long timeoutNanos;
  private final Runnable onTimeout;
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> tick;
  private long lastReadNanos;
  private long pingSentNanos;

  /** @param onTimeout told when a connection is closed for not answering (e.g. to count it) */
  public Http2Keepalive(Duration interval, Duration timeout, Runnable onTimeout) {
    this.intervalNanos = interval.toNanos();
    this.timeoutNanos = timeout.toNanos();
    this.onTimeout = onTimeout;
  }

  /** Whether {@code interval} asks for keepalive at all (zero: off). */
  public static boolean enabled(Duration interval) {
    return !interval.isZero();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    lastReadNanos = System.nanoTime();
    long tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(20), Math.min(MAX_TICK_NANOS,
        Math.min(intervalNanos, timeoutNanos) / 4));
    tick = ctx.executor().scheduleAtFixedRate(this::check, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastReadNanos = System.nanoTime();
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    tick.cancel(false);
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    tick.cancel(false);
  }

  private void check() {
    long now = System.nanoTime();
    if (pingSentNanos != 0 && lastReadNanos > pingSentNanos) {
      pingSentNanos = 0;
    }
    if (pingSentNanos == 0) {
      if (now - lastReadNanos > intervalNanos) {
        pingSentNanos = now;
        ctx.channel().writeAndFlush(new DefaultHttp2PingFrame(now));
      }
    } else if (now - pingSentNanos > timeoutNanos) {
      tick.cancel(false);
      onTimeout.run();
      ctx.close(); // from here, in front of the codec: no GOAWAY dance with a peer that is not answering
    }
  }
}
