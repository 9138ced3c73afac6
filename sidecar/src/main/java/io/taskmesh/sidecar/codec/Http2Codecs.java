package io.taskmesh.sidecar.codec;

import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;

/** HTTP/2 frame codecs with the proxy's limits on both sides. */
public final class Http2Codecs {
  /** Largest request header block accepted from a client (SETTINGS_MAX_HEADER_LIST_SIZE). */
  public static final int MAX_HEADER_LIST_SIZE = 16 * 1024;
  public static final int MAX_CONCURRENT_STREAMS = 1000;
  /** Per-stream window: big enough for large messages, small enough to bound what one stream buffers. */
  public static final int INITIAL_WINDOW_SIZE = 1024 * 1024;

  private Http2Codecs() {}

  /**
   * @param drainTimeout how long closing a connection waits for its streams after GOAWAY (graceful drain)
   */
  public static Http2FrameCodec server(java.time.Duration drainTimeout) {
    return Http2FrameCodecBuilder.forServer()
        .gracefulShutdownTimeoutMillis(drainTimeout.toMillis())
        .initialSettings(Http2Settings.defaultSettings()
            .maxHeaderListSize(MAX_HEADER_LIST_SIZE)
            .maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
            .initialWindowSize(INITIAL_WINDOW_SIZE))
        .decoderEnforceMaxRstFramesPerWindow(200, 30)
        .build();
  }

  public static Http2FrameCodec client() {
    return Http2FrameCodecBuilder.forClient()
        .initialSettings(Http2Settings.defaultSettings()
            .maxHeaderListSize(64 * 1024)
            .initialWindowSize(INITIAL_WINDOW_SIZE))
        .build();
  }
}
