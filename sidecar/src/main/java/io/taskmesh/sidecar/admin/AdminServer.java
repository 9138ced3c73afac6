package io.taskmesh.sidecar.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
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
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.listener.BudgetCounter;
import io.taskmesh.sidecar.listener.BudgetedServer;
import io.taskmesh.sidecar.listener.Http1Activity;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The admin port: a few read-only HTTP/1.1 pages, each a supplier of its current answer. The probes and
 * {@code /metrics} ({@link #PUBLIC_PAGES}) answer anyone who reaches the port, as the kubelet and Prometheus
 * must; every other page (config, endpoints, learnt methods) answers only connections from loopback, i.e.
 * from inside the pod. Pages other than the probes are built on an admin thread of their own, never on the
 * event loops that carry traffic; when it has too many queued, the request is answered 503 at once.
 */
public final class AdminServer implements AutoCloseable {
  /** The pages served to every address: what the kubelet probes and Prometheus scrapes. */
  public static final Set<String> PUBLIC_PAGES = Set.of("/healthz", "/health", "/ready", "/metrics");
  /** Probes answer from what is known already: on the event loop, never queued behind a big page. */
  private static final Set<String> PROBES = Set.of("/healthz", "/health", "/ready");
  private static final int QUEUED_PAGES = 16;

  /** One admin answer. */
  public record Page(int status, String contentType, String body) {
    public static Page text(int status, String body) {
      return new Page(status, "text/plain; charset=utf-8", body);
    }

    public static Page json(String body) {
      return new Page(200, "application/json", body);
    }
  }

  private final BudgetedServer server;
  private final ExecutorService builder = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
      new ArrayBlockingQueue<>(QUEUED_PAGES), runnable -> {
        Thread thread = new Thread(runnable, "taskmesh-admin");
        thread.setDaemon(true);
        return thread;
      });

  public AdminServer(NettyResources netty, String host, int port, Map<String, Supplier<Page>> pages,
      ListenerBudgets budgets, BudgetCounter counter) {
    this.server = new BudgetedServer(netty, host, port, budgets, counter, Duration.ofSeconds(1), pipeline ->
        pipeline.addLast(new HttpServerCodec(), new Http1Activity(), new HttpObjectAggregator(8192),
            new PageHandler(pages, builder)));
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
    builder.shutdownNow();
  }

  /** Whether a page other than the public ones may be shown to this peer: loopback only. */
  static boolean mayIntrospect(SocketAddress peer) {
    return peer instanceof InetSocketAddress inet && inet.getAddress() != null && inet.getAddress().isLoopbackAddress();
  }

  private static final class PageHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Map<String, Supplier<Page>> pages;
    private final ExecutorService builder;

    PageHandler(Map<String, Supplier<Page>> pages, ExecutorService builder) {
      this.pages = pages;
      this.builder = builder;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String path = new QueryStringDecoder(request.uri()).path();
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      Supplier<Page> supplier = pages.get(path);
      if (supplier != null && !PUBLIC_PAGES.contains(path) && !mayIntrospect(ctx.channel().remoteAddress())) {
        respond(ctx, Page.text(403, path + " is served on loopback only (from inside the pod); this address gets "
            + PUBLIC_PAGES + "\n"), keepAlive);
        return;
      }
      if (supplier == null) {
        respond(ctx, Page.text(404, "no admin page " + path + "; try one of " + pages.keySet() + "\n"), keepAlive);
        return;
      }
      if (PROBES.contains(path)) {
        respond(ctx, supplier.get(), keepAlive);
        return;
      }
      ctx.channel().config().setAutoRead(false); // one page at a time per connection
      try {
        builder.execute(() -> {
          Page page;
          try {
            page = supplier.get();
          } catch (RuntimeException e) {
            page = Page.text(500, "admin page " + path + " failed: " + e + "\n");
          }
          respond(ctx, page, keepAlive);
        });
      } catch (RejectedExecutionException busy) {
        respond(ctx, Page.text(503, "admin is busy building other pages; try again\n"), keepAlive);
      }
    }

    private static void respond(ChannelHandlerContext ctx, Page page, boolean keepAlive) {
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.valueOf(page.status()), Unpooled.copiedBuffer(page.body(), StandardCharsets.UTF_8));
      response.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, page.contentType())
          .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      HttpUtil.setKeepAlive(response, keepAlive);
      var written = ctx.writeAndFlush(response);
      written.addListener(done -> ctx.channel().config().setAutoRead(true));
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
