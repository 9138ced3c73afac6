package io.taskmesh.sidecar.codec;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * Frames a peer sent on a stream before it learnt that the proxy had reset it are ignored, as RFC 9113 (5.1) asks
 * of the side that sent the RST_STREAM. Netty forgets a stream once it is closed and answers each such frame (the
 * rest of a body already on the wire when the gateway refused the request, say) with RST_STREAM(STREAM_CLOSED),
 * which it also counts against its limit of 200 resets a server sends in 30 s: a client whose refused uploads were
 * still arriving had its whole connection closed with GOAWAY(ENHANCE_YOUR_CALM). So the encoder remembers the last
 * streams it reset and drops the STREAM_CLOSED answer for them; the flow-control window those frames used is given
 * back by Netty either way. Frames on streams the proxy did not reset, or reset too many streams ago, are still
 * answered and counted, so a client provoking resets gets no more room than before.
 */
final class ResetStreams extends DecoratingHttp2ConnectionEncoder {
  private final int[] recent;
  private int next;
  private int size;

  private ResetStreams(Http2ConnectionEncoder delegate, int remembered) {
    super(delegate);
    this.recent = new int[remembered];
  }

  /**
   * A server codec builder whose encoder remembers the last {@code 2 × maxConcurrentStreams} streams it reset: a
   * peer sends only on streams it still believes open, at most {@code maxConcurrentStreams} of them, so late frames
   * can only be for that many recent resets; twice as many leaves room for a SETTINGS change in flight.
   */
  static Http2FrameCodecBuilder serverBuilder(int maxConcurrentStreams) {
    return new ServerBuilder(2 * maxConcurrentStreams);
  }

  private static final class ServerBuilder extends Http2FrameCodecBuilder {
    private final int remembered;

    ServerBuilder(int remembered) {
      this.remembered = remembered;
      server(true);
    }

    @Override
    protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
        Http2Settings initialSettings) {
      return super.build(decoder, new ResetStreams(encoder, remembered), initialSettings);
    }
  }

  @Override
  public ChannelFuture writeRstStream(ChannelHandlerContext ctx, int streamId, long errorCode, ChannelPromise promise) {
    if (errorCode == Http2Error.STREAM_CLOSED.code() && connection().stream(streamId) == null) {
      // a frame on a stream Netty no longer knows: ignored if this side reset it, else answered (and counted) again
      return reset(streamId) ? promise.setSuccess() : super.writeRstStream(ctx, streamId, errorCode, promise);
    }
    remember(streamId);
    return super.writeRstStream(ctx, streamId, errorCode, promise);
  }

  private boolean reset(int streamId) {
    for (int i = 0; i < size; i++) {
      if (recent[i] == streamId) {
        return true;
      }
    }
    return false;
  }

  private void remember(int streamId) {
    recent[next] = streamId;
    next = (next + 1) % recent.length;
    size = Math.min(size + 1, recent.length);
  }
}
