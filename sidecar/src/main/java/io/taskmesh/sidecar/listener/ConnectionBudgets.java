package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.util.concurrent.ScheduledFuture;
import io.taskmesh.config.ListenerBudgets;
import java.util.concurrent.TimeUnit;

/**
 * The time budgets of one connection, checked by one coarse timer: first byte, first request headers, idle
 * (no stream or HTTP/1.1 request in progress) and maximum age (then GOAWAY, and the connection ends once its
 * streams have). Keepalive is the {@link io.taskmesh.sidecar.codec.Http2Keepalive} in front of the HTTP/2 codec.
 */
final class ConnectionBudgets extends ChannelDuplexHandler {
  private static final long MAX_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long MIN_TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final ListenerBudgets budgets;
  private final BudgetCounter counter;
  private final long tickNanos;
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> tick;
  private long acceptedNanos;
  private long firstByteNanos;
  private long idleSinceNanos;
  private int http1Requests;
  private int http1Active;
  private boolean agedOut;
  private boolean draining;
  private Http2Connection http2;

  ConnectionBudgets(ListenerBudgets budgets, BudgetCounter counter) {
    this.budgets = budgets;
    this.counter = counter;
    long shortest = MAX_TICK_NANOS * 4;
    for (java.time.Duration timer : new java.time.Duration[] {budgets.firstByteTimeout(), budgets.headerTimeout(),
        budgets.idleTimeout()}) {
      if (!timer.isZero()) {
        shortest = Math.min(shortest, timer.toNanos());
      }
    }
    this.tickNanos = Math.max(MIN_TICK_NANOS, Math.min(MAX_TICK_NANOS, shortest / 4));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    acceptedNanos = System.nanoTime();
    idleSinceNanos = acceptedNanos;
    tick = ctx.executor().scheduleAtFixedRate(this::check, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (firstByteNanos == 0) {
      firstByteNanos = System.nanoTime();
    }
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

  void http1RequestStarted() {
    http1Requests++;
    http1Active++;
  }

  void http1RequestEnded() {
    http1Active = Math.max(0, http1Active - 1);
    idleSinceNanos = System.nanoTime();
    if (draining && http1Active == 0) {
      ctx.channel().close();
    }
  }

  boolean isDraining() {
    return draining;
  }

  /**
   * GOAWAY for HTTP/2 (the codec then waits for open streams up to the drain timeout); an HTTP/1.1 connection
   * closes now when idle, else once its request is answered. Runs on the connection's event loop.
   */
  void drain() {
    draining = true;
    if (http2() != null || http1Active == 0) {
      ctx.channel().close();
    }
  }

  private void check() {
    long now = System.nanoTime();
    if (firstByteNanos == 0) {
      if (over(budgets.firstByteTimeout(), now - acceptedNanos)) {
        closeNow("first_byte_timeout");
      }
      return;
    }
    if (!headersSeen()) {
      if (over(budgets.headerTimeout(), now - firstByteNanos)) {
        closeNow("header_timeout");
      }
      return;
    }
    if (activeRequests() > 0) {
      idleSinceNanos = now;
    } else if (over(budgets.idleTimeout(), now - idleSinceNanos)) {
      counter.exceeded("idle_timeout");
      drain();
      return;
    }
    if (!agedOut && over(budgets.maxConnectionAge(), now - acceptedNanos)) {
      agedOut = true;
      counter.exceeded("max_connection_age");
      drain();
    }
  }

  private void closeNow(String budget) {
    counter.exceeded(budget);
    tick.cancel(false);
    ctx.close(); // from here, below the HTTP/2 codec: no GOAWAY dance with a peer that is not answering
  }

  private boolean headersSeen() {
    Http2Connection connection = http2();
    return connection != null ? connection.remote().lastStreamCreated() > 0 : http1Requests > 0;
  }

  private int activeRequests() {
    Http2Connection connection = http2();
    return connection != null ? connection.numActiveStreams() : http1Active;
  }

  private Http2Connection http2() {
    if (http2 == null) {
      Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
      http2 = codec == null ? null : codec.connection();
    }
    return http2;
  }

  private static boolean over(java.time.Duration budget, long elapsedNanos) {
    return !budget.isZero() && elapsedNanos > budget.toNanos();
  }
}
