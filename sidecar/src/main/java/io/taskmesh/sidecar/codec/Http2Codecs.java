package io.taskmesh.sidecar.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.logging.LogLevel;
import io.taskmesh.config.ListenerBudgets;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * HTTP/2 frame codecs with the proxy's limits on both sides. Netty (4.2) guards against most known floods
 * itself: CONTINUATION floods (small CONTINUATION frames), empty DATA frames, oversized header blocks and
 * streams over SETTINGS_MAX_CONCURRENT_STREAMS (refused). Rapid reset is the {@link PrematureResetGuard}'s
 * instead of Netty's (200 RST_STREAM in 30 s, however long the streams lived), which sent away callers
 * cancelling calls whose deadlines had expired. Late frames on streams the server reset are ignored
 * ({@link ResetStreams}) rather than answered and counted against Netty's limit on the resets a server sends. What
 * the server side answers that way is counted by the budget it belongs to.
 */
public final class Http2Codecs {
  /** Largest request header block accepted from a client (SETTINGS_MAX_HEADER_LIST_SIZE). */
  public static final int MAX_HEADER_LIST_SIZE = 16 * 1024;
  /** Per-stream window of the proxy's upstream connections. */
  public static final int INITIAL_WINDOW_SIZE = 1024 * 1024;

  private Http2Codecs() {}

  /**
   * @param drainTimeout how long closing a connection waits for its streams after GOAWAY (graceful drain)
   * @param exceeded told {@code max_concurrent_streams} for each stream refused over the limit,
   *     {@code premature_resets} for each connection sent away by the {@link PrematureResetGuard} and
   *     {@code http2_abuse} for each other connection sent away with ENHANCE_YOUR_CALM
   */
  public static Http2FrameCodec server(ListenerBudgets budgets, Duration drainTimeout, Consumer<String> exceeded) {
    return ResetStreams.serverBuilder(budgets.maxConcurrentStreams())
        .gracefulShutdownTimeoutMillis(drainTimeout.toMillis())
        .initialSettings(Http2Settings.defaultSettings()
            .maxHeaderListSize(MAX_HEADER_LIST_SIZE)
            .maxConcurrentStreams(budgets.maxConcurrentStreams())
            .initialWindowSize(budgets.maxStreamBufferBytes()))
        .decoderEnforceMaxRstFramesPerWindow(0, 0)
        .frameLogger(new RefusalCounter(exceeded))
        .build();
  }

  /**
   * What a server connection that speaks HTTP/2 gets, in order: keepalive (when the budgets ask for it), one
   * flush per event-loop turn ({@link ConsolidatedFlush}), the codec, its connection window opened to the budget
   * ({@link ConnectionWindow}), the {@link PrematureResetGuard}, then
   * {@code streams} (the stream relay: {@code listener.CallerStreams}; the gateway's multiplexer).
   */
  public static ChannelHandler[] serverHandlers(ListenerBudgets budgets, Duration drainTimeout,
      Consumer<String> exceeded, ChannelHandler streams) {
    Http2FrameCodec codec = server(budgets, drainTimeout, exceeded);
    ConnectionWindow window = new ConnectionWindow(codec, budgets.maxConnectionBufferBytes());
    PrematureResetGuard resets = new PrematureResetGuard(budgets.prematureResets());
    if (!Http2Keepalive.enabled(budgets.keepaliveInterval())) {
      return new ChannelHandler[] {new ConsolidatedFlush(), codec, window, resets, streams};
    }
    return new ChannelHandler[] {new Http2Keepalive(budgets.keepaliveInterval(), budgets.keepaliveTimeout(),
        () -> exceeded.accept("keepalive_timeout")), new ConsolidatedFlush(), codec, window, resets, streams};
  }

  /**
   * The codec of a connection the proxy opens (to a peer sidecar, an app, the control plane). It does not validate
   * the names and values of the response headers it decodes: they come from a peer the proxy chose, and a relayed
   * response is checked where it arrives, by the caller's own HTTP/2 stack (requests stay validated by the
   * listeners' codec, {@link #server}). Netty's checks were some 2 % of a sidecar's event-loop CPU.
   */
  public static Http2FrameCodec client() {
    return Http2FrameCodecBuilder.forClient()
        .initialSettings(Http2Settings.defaultSettings()
            .maxHeaderListSize(64 * 1024)
            .initialWindowSize(INITIAL_WINDOW_SIZE))
        .validateHeaders(false)
        .build();
  }

  /**
   * Netty's frame logger is the one place every frame the codec writes passes, including the RST_STREAM and
   * GOAWAY frames its own guards and the {@link PrematureResetGuard} send; this one counts those (the guard's
   * GOAWAY by the budget its debug data names) and logs nothing.
   */
  private static final class RefusalCounter extends Http2FrameLogger {
    private final Consumer<String> exceeded;

    RefusalCounter(Consumer<String> exceeded) {
      super(LogLevel.TRACE, RefusalCounter.class);
      this.exceeded = exceeded;
    }

    @Override
    public boolean isEnabled() {
      return false;
    }

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
      if (direction == Direction.OUTBOUND && errorCode == Http2Error.REFUSED_STREAM.code()) {
        exceeded.accept("max_concurrent_streams");
      }
    }

    @Override
    public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode,
        ByteBuf debugData) {
      if (direction == Direction.OUTBOUND && errorCode == Http2Error.ENHANCE_YOUR_CALM.code()) {
        boolean resets = debugData.toString(StandardCharsets.US_ASCII).startsWith(PrematureResetGuard.BUDGET);
        exceeded.accept(resets ? PrematureResetGuard.BUDGET : "http2_abuse");
      }
    }
  }
}
