package io.taskmesh.sidecar.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.taskmesh.sidecar.NettyResources;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/** The admin port: a few read-only HTTP/1.1 pages, each a supplier of its current answer. */
public final class AdminServer implements AutoCloseable {
  /** One admin answer. */
  public record Page(int status, String contentType, String body) {
    public static Page text(int status, String body) {
      return new Page(status, "text/plain; charset=utf-8", body);
    }

    public static Page json(String body) {
      return new Page(200, "application/json", body);
    }
  }

  private final Channel channel;

  public AdminServer(NettyResources netty, String host, int port, Map<String, Supplier<Page>> pages) {
    this.channel = new ServerBootstrap()
        .group(netty.acceptors(), netty.workers())
        .channel(netty.serverChannelType())
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), new PageHandler(pages));
          }
        })
        .bind(host, port)
        .syncUninterruptibly()
        .channel();
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
  }

  private static final class PageHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Map<String, Supplier<Page>> pages;

    PageHandler(Map<String, Supplier<Page>> pages) {
      this.pages = pages;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String path = new QueryStringDecoder(request.uri()).path();
      Supplier<Page> supplier = pages.get(path);
      Page page = supplier == null
          ? Page.text(404, "no admin page " + path + "; try one of " + pages.keySet() + "\n")
          : supplier.get();
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.valueOf(page.status()), Unpooled.copiedBuffer(page.body(), StandardCharsets.UTF_8));
      response.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, page.contentType())
          .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpUtil.setKeepAlive(response, keepAlive);
      var written = ctx.writeAndFlush(response);
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
