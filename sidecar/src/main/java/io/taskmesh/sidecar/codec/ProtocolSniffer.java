package io.taskmesh.sidecar.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * Looks at the first bytes of a connection and installs the HTTP/1.1 pipeline when they start an
 * HTTP/1.x request line, the HTTP/2 pipeline otherwise (h2c prior knowledge: the gRPC path). Anything
 * that is neither is left to the HTTP/2 codec, which answers a bad preface with GOAWAY(PROTOCOL_ERROR).
 */
public final class ProtocolSniffer extends ByteToMessageDecoder {
  private static final String[] HTTP1_METHODS = {
    "GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "
  };
  private static final int LONGEST_METHOD = 8;

  private final Supplier<ChannelHandler[]> http2Pipeline;
  private final Supplier<ChannelHandler[]> http1Pipeline;

  public ProtocolSniffer(Supplier<ChannelHandler[]> http2Pipeline, Supplier<ChannelHandler[]> http1Pipeline) {
    this.http2Pipeline = http2Pipeline;
    this.http1Pipeline = http1Pipeline;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int readable = Math.min(in.readableBytes(), LONGEST_METHOD);
    String start = in.toString(in.readerIndex(), readable, StandardCharsets.US_ASCII);
    Boolean http1 = looksLikeHttp1(start, in.readableBytes() >= LONGEST_METHOD);
    if (http1 == null) {
      return; // not enough bytes yet to tell
    }
    ChannelHandler[] handlers = http1 ? http1Pipeline.get() : http2Pipeline.get();
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
