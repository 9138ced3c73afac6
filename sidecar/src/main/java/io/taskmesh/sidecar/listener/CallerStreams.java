package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2WindowUpdateFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.identity.PeerIdentity;
import io.taskmesh.sidecar.logical.ProxyChain;
import java.util.ArrayList;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of one HTTP/2 server connection, behind its frame codec, without a channel each: a client's new
 * stream passes the {@link StreamGate}, then becomes a {@link CallerStream} with its call; every later frame, change
 * of writability and the stream's end go to it by stream id. A frame of a stream no longer here (refused at the
 * gate, or over) is dropped and its bytes go back to the window, so such a stream never holds the connection's.
 */
final class CallerStreams extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(CallerStreams.class);

  private final ProxyChain chain;
  private final StreamGate gate;
  private final IntObjectMap<CallerStream> streams = new IntObjectHashMap<>();
  private ChannelHandlerContext ctx;
  private Http2Connection connection;
  /** A client's stream ids only grow: a higher one is a new stream. */
  private int lastOpened;
  /** The caller's identity, read once: the handshake is over before the first stream. */
  private Optional<SpiffeId> peer;

  CallerStreams(ProxyChain chain, StreamGate gate) {
    this.chain = chain;
    this.gate = gate;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.connection = ctx.pipeline().get(Http2FrameCodec.class).connection();
  }

  /** Streams in progress on this connection (for tests: none may be left once its calls are over). */
  int size() {
    return streams.size();
  }

  Optional<SpiffeId> peer() {
    if (peer == null) {
      peer = PeerIdentity.of(ctx.channel());
    }
    return peer;
  }

  boolean isWritable(Http2FrameStream frameStream) {
    Http2Stream stream = connection.stream(frameStream.id());
    return stream != null && connection.remote().flowController().isWritable(stream);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Http2StreamFrame frame) || frame.stream() == null || msg instanceof Http2WindowUpdateFrame) {
      ReferenceCountUtil.release(msg); // SETTINGS, PING, GOAWAY, WINDOW_UPDATE: the codec has acted on them
      return;
    }
    int id = frame.stream().id();
    CallerStream stream = streams.get(id);
    if (stream != null || (msg instanceof Http2HeadersFrame && id > lastOpened)) {
      try {
        if (stream != null) {
          stream.received(msg);
        } else {
          lastOpened = id;
          open((Http2HeadersFrame) msg);
        }
      } catch (RuntimeException e) {
        // one call's failure resets its own stream, as it closed only its stream channel before, not the connection
        log.warn("event=stream_failed remote={} stream={}", ctx.channel().remoteAddress(), id, e);
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(frame.stream()));
      }
    } else {
      if (msg instanceof Http2DataFrame data && data.initialFlowControlledBytes() > 0) {
        ctx.write(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(frame.stream()),
            ctx.voidPromise());
        ctx.flush();
      }
      ReferenceCountUtil.release(msg);
    }
  }

  private void open(Http2HeadersFrame headers) {
    ProxyError refused = gate.admit(ctx.channel(), headers.headers());
    if (refused != null) {
      ctx.writeAndFlush(new DefaultHttp2HeadersFrame(refused.toTrailersOnly(), true).stream(headers.stream()));
      return; // the rest of its request is dropped as it comes
    }
    CallerStream stream = new CallerStream(this, ctx, headers.stream());
    streams.put(headers.stream().id(), stream);
    stream.start(chain, headers);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof Http2FrameStreamEvent streamEvent) {
      int id = streamEvent.stream().id();
      CallerStream stream = streams.get(id);
      if (stream != null) {
        if (streamEvent.type() == Http2FrameStreamEvent.Type.Writability) {
          stream.writabilityChanged();
        } else if (streamEvent.stream().state() == Http2Stream.State.CLOSED) {
          streams.remove(id);
          stream.closed();
        }
      }
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    for (CallerStream stream : new ArrayList<>(streams.values())) {
      stream.closed();
    }
    streams.clear();
    ctx.fireChannelInactive();
  }

  /**
   * A stream error ends that stream (reset, CANCEL, as a stream channel's close did); a connection error is the
   * codec's to answer (GOAWAY naming it, then close); anything else ends the connection.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof Http2FrameStreamException streamError) {
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(streamError.stream()));
      return;
    }
    if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
      ctx.close();
    }
  }
}
