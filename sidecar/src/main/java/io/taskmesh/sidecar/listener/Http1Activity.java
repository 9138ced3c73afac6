package io.taskmesh.sidecar.listener;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Tells the connection's {@link ConnectionBudgets} when an HTTP/1.1 request is in progress (from its headers
 * to the last byte of its answer), so idle and header timeouts and a graceful drain see HTTP/1.1 requests as
 * they see HTTP/2 streams. Sits right after the {@code HttpServerCodec}. While the connection drains, every
 * answer says {@code connection: close} and the connection closes once its request is answered.
 */
public final class Http1Activity extends ChannelDuplexHandler {
  private ConnectionBudgets budgets;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    budgets = ctx.pipeline().get(ConnectionBudgets.class);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest && budgets != null) {
      budgets.http1RequestStarted();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (budgets == null) {
      ctx.write(msg, promise);
      return;
    }
    if (msg instanceof HttpResponse response && budgets.isDraining()) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (msg instanceof LastHttpContent) {
      ctx.write(msg, promise).addListener((ChannelFutureListener) written -> budgets.http1RequestEnded());
      return;
    }
    ctx.write(msg, promise);
  }
}
