package io.taskmesh.sidecar.cluster;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2WindowUpdateFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.util.ArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of one upstream connection, behind its frame codec and without a channel each: opens them
 * ({@link #open}), hands each response frame, writability change and end to its {@link UpstreamStream} by id. A
 * GOAWAY tells the connection to take no new streams, and the streams above its last stream id that the upstream
 * never processed them (Netty closes those right after). A frame of a stream no longer here (cancelled) is dropped
 * and its bytes go back to the window, so the connection's window is never held by a stream that is gone.
 */
final class UpstreamStreams extends Http2ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(UpstreamStreams.class);
  private final Runnable onGoAway;
  private final IntObjectMap<UpstreamStream> streams = new IntObjectHashMap<>();
  private ChannelHandlerContext ctx;
  private Http2Connection connection;

  UpstreamStreams(Runnable onGoAway) {
    this.onGoAway = onGoAway;
  }

  @Override
  protected void handlerAdded0(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.connection = ctx.pipeline().get(Http2FrameCodec.class).connection();
  }

  /** A new stream whose frames go to {@code receiver}; {@code onEnded} runs once when it is over. On the loop. */
  UpstreamStream open(UpstreamStream.Receiver receiver, Runnable onEnded) {
    return new UpstreamStream(this, ctx, newStream(), receiver, onEnded);
  }

  void register(int id, UpstreamStream stream) {
    streams.put(id, stream);
  }

  void unregister(int id, UpstreamStream stream) {
    streams.remove(id, stream);
  }

  /** Streams open on this connection now (for tests: none may be left once its calls are over). */
  int size() {
    return streams.size();
  }

  boolean isWritable(Http2FrameStream frameStream) {
    Http2Stream stream = connection.stream(frameStream.id());
    return stream != null && connection.remote().flowController().isWritable(stream);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2WindowUpdateFrame) {
      ReferenceCountUtil.release(msg); // the codec's flow controller has acted on it
      return;
    }
    if (msg instanceof Http2StreamFrame frame && frame.stream() != null) {
      UpstreamStream stream = streams.get(frame.stream().id());
      if (stream != null) {
        try {
          stream.received(msg);
        } catch (RuntimeException e) {
          // one try's failure cancels its own stream, not the connection's others
          log.warn("event=upstream_stream_failed remote={} stream={}", ctx.channel().remoteAddress(),
              frame.stream().id(), e);
          stream.cancel();
        }
        return;
      }
      if (msg instanceof Http2DataFrame data && data.initialFlowControlledBytes() > 0) {
        ctx.write(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(frame.stream()),
            ctx.voidPromise());
        ctx.flush();
      }
    } else if (msg instanceof Http2GoAwayFrame goAway) {
      onGoAway.run();
      for (UpstreamStream stream : new ArrayList<>(streams.values())) {
        // ids above the last one the upstream processed (a snapshot: a refused stream may end others' work)
        if (stream.id() > goAway.lastStreamId()) {
          stream.refused();
        }
      }
    }
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof Http2FrameStreamEvent streamEvent) {
      UpstreamStream stream = streams.get(streamEvent.stream().id());
      if (stream != null) {
        if (streamEvent.type() == Http2FrameStreamEvent.Type.Writability) {
          stream.writabilityChanged();
        } else if (streamEvent.stream().state() == Http2Stream.State.CLOSED) {
          stream.ended();
        }
      }
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    for (UpstreamStream stream : new ArrayList<>(streams.values())) {
      stream.ended();
    }
    super.channelInactive(ctx);
  }

  /**
   * A stream error ends that stream (reset, CANCEL, as a stream channel's close did); a connection error is the
   * codec's to answer (GOAWAY naming it, then close); anything else ends the connection.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof Http2FrameStreamException streamError) {
      UpstreamStream stream = streams.get(streamError.stream().id());
      if (stream != null) {
        stream.cancel();
      }
      return;
    }
    if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
      ctx.close();
    }
  }
}
