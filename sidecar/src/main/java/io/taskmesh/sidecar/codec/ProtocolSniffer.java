package io.taskmesh.sidecar.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Looks at the first bytes of a connection and installs the pipeline for its protocol.
 *
 * <p>On a connection that was not captured (dialled to the listener itself): HTTP/1.1 pipeline when the bytes
 * start an HTTP/1.x request line, HTTP/2 otherwise (h2c prior knowledge: the gRPC path); anything that is neither
 * is left to the HTTP/2 codec, which answers a bad preface with GOAWAY(PROTOCOL_ERROR).
 *
 * <p>On a captured connection (an {@code opaque} pipeline is given): HTTP/2 when the bytes are the HTTP/2
 * preface, and everything else, HTTP/1.1 included, is forwarded untouched: the app's database connection must
 * work as it would without a mesh. A client that sends nothing for {@link #SERVER_FIRST_WAIT_MILLIS} is taken to
 * speak a protocol where the server talks first (MySQL, SMTP), and is forwarded too.
 */
public final class ProtocolSniffer extends ByteToMessageDecoder {
  /** How long a captured connection may stay silent before it is forwarded as a server-first protocol. */
  public static final long SERVER_FIRST_WAIT_MILLIS = 300;
  private static final String[] HTTP1_METHODS = {
    "GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "
  };
  private static final int LONGEST_METHOD = 8;
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

  private final Supplier<ChannelHandler[]> http2Pipeline;
  private final Supplier<ChannelHandler[]> http1Pipeline;
  private final Supplier<ChannelHandler[]> opaquePipeline;
  private ScheduledFuture<?> serverFirst;

  public ProtocolSniffer(Supplier<ChannelHandler[]> http2Pipeline, Supplier<ChannelHandler[]> http1Pipeline) {
    this(http2Pipeline, http1Pipeline, null);
  }

  /** @param opaquePipeline for a captured connection: what forwards it untouched; null for one that was not */
  public ProtocolSniffer(Supplier<ChannelHandler[]> http2Pipeline, Supplier<ChannelHandler[]> http1Pipeline,
      Supplier<ChannelHandler[]> opaquePipeline) {
    this.http2Pipeline = http2Pipeline;
    this.http1Pipeline = http1Pipeline;
    this.opaquePipeline = opaquePipeline;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (opaquePipeline != null) {
      serverFirst = ctx.executor().schedule(() -> {
        if (!ctx.isRemoved() && actualReadableBytes() == 0) {
          install(ctx, opaquePipeline.get());
        }
      }, SERVER_FIRST_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    if (serverFirst != null) {
      serverFirst.cancel(false);
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    ChannelHandler[] handlers = opaquePipeline != null ? captured(in) : direct(in);
    if (handlers != null) {
      install(ctx, handlers);
    }
  }

  /** null while undecided. */
  private ChannelHandler[] captured(ByteBuf in) {
    int compared = Math.min(in.readableBytes(), PREFACE.readableBytes());
    boolean prefaceSoFar = in.slice(in.readerIndex(), compared)
        .equals(PREFACE.slice(PREFACE.readerIndex(), compared));
    if (!prefaceSoFar) {
      return opaquePipeline.get();
    }
    return compared == PREFACE.readableBytes() ? http2Pipeline.get() : null;
  }

  private ChannelHandler[] direct(ByteBuf in) {
    int readable = Math.min(in.readableBytes(), LONGEST_METHOD);
    String start = in.toString(in.readerIndex(), readable, StandardCharsets.US_ASCII);
    Boolean http1 = looksLikeHttp1(start, in.readableBytes() >= LONGEST_METHOD);
    if (http1 == null) {
      return null; // not enough bytes yet to tell
    }
    return http1 ? http1Pipeline.get() : http2Pipeline.get();
  }

  private void install(ChannelHandlerContext ctx, ChannelHandler[] handlers) {
    String after = ctx.name();
    for (ChannelHandler handler : handlers) {
      String name = handler.getClass().getSimpleName() + "#" + System.identityHashCode(handler);
      ctx.pipeline().addAfter(after, name, handler);
      after = name;
    }
    ctx.pipeline().remove(this); // hands the buffered bytes to the new pipeline
  }

  /** {@code null} while undecided. */
  private static Boolean looksLikeHttp1(String start, boolean enough) {
    boolean couldStillMatch = false;
    for (String method : HTTP1_METHODS) {
      if (start.startsWith(method)) {
        return true;
      }
      if (method.startsWith(start)) {
        couldStillMatch = true;
      }
    }
    return couldStillMatch && !enough ? null : false;
  }
}
