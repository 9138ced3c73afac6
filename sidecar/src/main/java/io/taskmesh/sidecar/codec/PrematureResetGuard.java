package io.taskmesh.sidecar.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.taskmesh.config.PrematureResetBudget;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one HTTP/2 server connection to its {@link PrematureResetBudget}, between the frame codec and the
 * stream relay: it sees the client's HEADERS and RST_STREAM and the proxy's response HEADERS. A
 * connection over the budget gets GOAWAY(ENHANCE_YOUR_CALM) and is closed once its remaining streams end (within
 * the drain timeout); that is logged once and counted as {@link #BUDGET}.
 */
final class PrematureResetGuard extends ChannelDuplexHandler {
  /** The budget's name in metrics, and how its GOAWAY's debug data begins. */
  static final String BUDGET = "premature_resets";
  private static final Logger log = LoggerFactory.getLogger(PrematureResetGuard.class);

  private final PrematureResetBudget budget;
  private final long withinNanos;
  /** The client's streams not answered yet: when each was opened. */
  private final IntObjectMap<Long> unanswered = new IntObjectHashMap<>();
  private int lastOpened;
  private long opened;
  private long premature;
  private boolean sentAway;

  PrematureResetGuard(PrematureResetBudget budget) {
    this.budget = budget;
    this.withinNanos = budget.within().toNanos();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame headers && headers.stream() != null && headers.stream().id() > lastOpened) {
      lastOpened = headers.stream().id(); // a client's stream ids only grow: a higher one is a new stream
      opened++;
      unanswered.put(lastOpened, Long.valueOf(System.nanoTime()));
    }
    boolean prematureReset = msg instanceof Http2ResetFrame reset && reset.stream() != null
        && isPremature(unanswered.remove(reset.stream().id()));
    ctx.fireChannelRead(msg);
    if (prematureReset) {
      premature++;
      if (!sentAway && budget.exceededBy(premature, opened)) {
        sendAway(ctx);
      }
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if ((msg instanceof Http2HeadersFrame || msg instanceof Http2ResetFrame)
        && ((Http2StreamFrame) msg).stream() != null) {
      unanswered.remove(((Http2StreamFrame) msg).stream().id()); // answered (or reset by the proxy itself)
    }
    ctx.write(msg, promise);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof Http2FrameStreamEvent streamEvent && streamEvent.stream().state() == Http2Stream.State.CLOSED) {
      unanswered.remove(streamEvent.stream().id()); // ended some other way, e.g. a stream error the codec answered
    }
    ctx.fireUserEventTriggered(event);
  }

  private boolean isPremature(Long openedNanos) {
    return openedNanos != null && System.nanoTime() - openedNanos < withinNanos;
  }

  private void sendAway(ChannelHandlerContext ctx) {
    sentAway = true;
    String why = BUDGET + ": " + premature + " of " + opened + " streams reset before their answer";
    log.warn("event=premature_resets_exceeded remote={} premature={} streams={} burst={} percentOfStreams={}",
        ctx.channel().remoteAddress(), premature, opened, budget.burst(), budget.percentOfStreams());
    ByteBuf debugData = Unpooled.copiedBuffer(why, StandardCharsets.US_ASCII);
    ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM, debugData))
        .addListener(ChannelFutureListener.CLOSE);
  }
}
