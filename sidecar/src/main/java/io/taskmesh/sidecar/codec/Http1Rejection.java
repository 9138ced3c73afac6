package io.taskmesh.sidecar.codec;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Answers an HTTP/1.1 request dialled to a gRPC listener itself (not captured: there is no original destination
 * to forward it to): gRPC needs HTTP/2, so the caller gets 426 with a body saying so (rather than a reset
 * connection it cannot explain), and the connection closes. HTTP/1.1 on a captured connection never gets here:
 * it is forwarded untouched ({@link io.taskmesh.sidecar.capture.OpaqueForwarder}).
 */
public final class Http1Rejection extends SimpleChannelInboundHandler<HttpRequest> {
  private final String hop;

  public Http1Rejection(String hop) {
    this.hop = hop;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, HttpRequest request) {
    String body = hop + ": " + request.method() + " " + request.uri() + " over HTTP/1.1 cannot reach a gRPC route;"
        + " use HTTP/2 (h2c prior knowledge), as gRPC clients do\n";
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.UPGRADE_REQUIRED,
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
        .set(HttpHeaderNames.UPGRADE, "h2c")
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
        .set(ProxyError.ERROR_HEADER, "hop=" + hop + "; target=" + request.uri() + "; reason=http1_not_supported");
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
