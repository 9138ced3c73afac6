package io.taskmesh.sidecar.codec;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * Sits in front of a connection's HTTP/2 codec and turns the flushes of one event-loop turn into one socket
 * write. A flush asked for while the connection reads waits for the end of that read; a flush asked for while
 * it does not (a proxy writes here what it read on another connection: a response read upstream goes to the
 * caller's connection) waits for a task, which runs once the loop has handled the rest of its ready sockets. So
 * the headers, message and trailers of a unary answer, and those of every other stream answered in the same
 * turn, leave in one {@code writev} instead of one each.
 *
 * <p>Unlike Netty's {@code FlushConsolidationHandler}, it never flushes when the channel turns unwritable. That
 * event fires inside a write: the HTTP/2 codec writes a DATA frame's header and its payload as two writes, and the
 * header alone can cross the high-water mark. A flush there completes earlier writes, whose listeners may read the
 * next frame of another stream and write it at once, between that header and its payload: corrupt framing, seen
 * under overload when the proxy last used {@code FlushConsolidationHandler}. Unwritable streams stop their proxy
 * from reading more instead, and the turn's flush comes a moment later.
 */
public final class ConsolidatedFlush extends ChannelDuplexHandler {
  private ChannelHandlerContext ctx;
  private final Runnable flushTask = this::flushAfterTurn;
  private boolean reading;
  private boolean flushPending;
  private boolean taskScheduled;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    flushPending = true;
    if (!reading && !taskScheduled) {
      taskScheduled = true;
      ctx.executor().execute(flushTask);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    ctx.fireChannelRead(msg);
  }

  /** The handlers behind this one flush in their own read-complete (the codec's window updates, the relays' frames): after them, once. */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.fireChannelReadComplete();
    reading = false;
    flushNowIfPending();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    reading = false;
    ctx.fireChannelInactive();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    flushNowIfPending();
    ctx.close(promise);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    flushNowIfPending();
  }

  private void flushAfterTurn() {
    taskScheduled = false;
    if (!reading) { // otherwise the read's end flushes
      flushNowIfPending();
    }
  }

  private void flushNowIfPending() {
    if (flushPending) {
      flushPending = false;
      ctx.flush();
    }
  }
}
