package io.taskmesh.operator.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS endpoint {@code POST /inject}: AdmissionReview v1 in, AdmissionReview v1 out. A body that is not an
 * AdmissionReview gets 400 and an unexpected failure 500; the API server then applies the webhook's
 * failurePolicy.
 *
 * <p>Connections are read without blocking (Netty), so a slow or stalled client holds no thread: each must
 * finish its TLS handshake and deliver a whole request within {@code requestDeadline} of connecting (or of
 * its previous answer), else it gets 408 and is closed. Reviews run on a bounded pool of {@link #REVIEW_THREADS}
 * threads with a queue as deep as the API server's default limit of mutating requests in flight (200); past
 * that a review is answered 503 at once, rather than waiting past the API server's timeout.
 */
public final class WebhookServer implements AutoCloseable {
  public static final String PATH = "/inject";
  /** The API server waits at most 30 s (timeoutSeconds); a request that takes a third of that to arrive is not coming. */
  public static final Duration REQUEST_DEADLINE = Duration.ofSeconds(10);
  static final int REVIEW_THREADS = 8;
  static final int REVIEW_QUEUE = 200;
  private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);
  private static final ObjectMapper JSON = Serialization.jsonMapper();
  private static final int MAX_BODY = 3 * 1024 * 1024;

  private final Channel listener;
  private final EventLoopGroup loops;
  private final ExecutorService reviews;

  private WebhookServer(Channel listener, EventLoopGroup loops, ExecutorService reviews) {
    this.listener = listener;
    this.loops = loops;
    this.reviews = reviews;
  }

  public static WebhookServer start(String bindAddress, int port, SSLContext tls, SidecarInjector injector,
      WebhookMetrics metrics) throws IOException {
    return start(bindAddress, port, tls, injector, metrics, REQUEST_DEADLINE);
  }

  static WebhookServer start(String bindAddress, int port, SSLContext tls, SidecarInjector injector,
      WebhookMetrics metrics, Duration requestDeadline) throws IOException {
    ExecutorService reviews = new ThreadPoolExecutor(REVIEW_THREADS, REVIEW_THREADS, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(REVIEW_QUEUE), runnable -> {
          Thread thread = new Thread(runnable, "webhook-review");
          thread.setDaemon(true);
          return thread;
        });
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, runnable -> {
      Thread thread = new Thread(runnable, "webhook-io");
      thread.setDaemon(true);
      return thread;
    }, NioIoHandler.newFactory());
    ServerBootstrap bootstrap = new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            SSLEngine engine = tls.createSSLEngine();
            engine.setUseClientMode(false);
            SslHandler ssl = new SslHandler(engine);
            ssl.setHandshakeTimeout(requestDeadline.toMillis(), TimeUnit.MILLISECONDS);
            channel.pipeline().addLast(ssl, new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY),
                new Exchange(injector, metrics, reviews, requestDeadline));
          }
        });
    try {
      Channel listener = bootstrap.bind(new InetSocketAddress(bindAddress, port)).sync().channel();
      return new WebhookServer(listener, loops, reviews);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + bindAddress + ":" + port, e);
    } catch (RuntimeException e) {
      loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      reviews.shutdownNow();
      throw new IOException("cannot listen on " + bindAddress + ":" + port + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** One connection: the deadline for its next request, and the request handed to the review pool. */
  private static final class Exchange extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final SidecarInjector injector;
    private final WebhookMetrics metrics;
    private final ExecutorService reviews;
    private final Duration deadline;
    private ScheduledFuture<?> timer;
    private boolean answeredBefore;

    Exchange(SidecarInjector injector, WebhookMetrics metrics, ExecutorService reviews, Duration deadline) {
      this.injector = injector;
      this.metrics = metrics;
      this.reviews = reviews;
      this.deadline = deadline;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      arm(ctx);
      super.channelActive(ctx);
    }

    private void arm(ChannelHandlerContext ctx) {
      timer = ctx.executor().schedule(() -> {
        if (answeredBefore) {
          ctx.close();  // an idle kept-alive connection: the API server opens another when it needs one
          return;
        }
        metrics.record("timeout", deadline);
        send(ctx, false, new Answer(HttpResponseStatus.REQUEST_TIMEOUT, "text/plain",
            "no complete request within " + deadline.toSeconds() + "s", "timeout"));
      }, deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      timer.cancel(false);
      long start = System.nanoTime();
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      if (!request.uri().equals(PATH) && !request.uri().startsWith(PATH + "?")) {
        send(ctx, keepAlive, new Answer(HttpResponseStatus.NOT_FOUND, "text/plain", "POST to " + PATH, "invalid"));
        return;
      }
      if (!HttpMethod.POST.equals(request.method())) {
        send(ctx, keepAlive, new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain",
            "POST an AdmissionReview to " + PATH, "invalid"));
        return;
      }
      byte[] body = ByteBufUtil.getBytes(request.content());
      try {
        reviews.execute(() -> {
          Answer answer = review(body, injector);
          metrics.record(answer.outcome(), Duration.ofNanos(System.nanoTime() - start));
          ctx.executor().execute(() -> send(ctx, keepAlive, answer));
        });
      } catch (RejectedExecutionException full) {
        metrics.record("overloaded", Duration.ofNanos(System.nanoTime() - start));
        send(ctx, false, new Answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
            "taskmesh sidecar injection is overloaded: " + REVIEW_QUEUE + " reviews waiting", "overloaded"));
      }
    }

    private void send(ChannelHandlerContext ctx, boolean keepAlive, Answer answer) {
      if (!ctx.channel().isActive()) {
        return;
      }
      byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status(),
          Unpooled.wrappedBuffer(bytes));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
          .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
      HttpUtil.setKeepAlive(response, keepAlive);
      var written = ctx.writeAndFlush(response);
      answeredBefore = true;
      if (keepAlive) {
        arm(ctx);
      } else {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (timer != null) {
        timer.cancel(false);
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("event=webhook_connection_failed remote={} error=\"{}\"", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  /** What to send back, and the outcome as {@link WebhookMetrics} counts it. */
  private record Answer(HttpResponseStatus status, String contentType, String body, String outcome) {}

  private static Answer review(byte[] body, SidecarInjector injector) {
    AdmissionReview review;
    try {
      review = JSON.readValue(body, AdmissionReview.class);
    } catch (IOException e) {
      return new Answer(HttpResponseStatus.BAD_REQUEST, "text/plain",
          "body is not an AdmissionReview JSON document: " + e.getMessage(), "invalid");
    }
    if (review == null || review.getRequest() == null || review.getRequest().getUid() == null) {
      return new Answer(HttpResponseStatus.BAD_REQUEST, "text/plain",
          "AdmissionReview has no request (or no request.uid)", "invalid");
    }
    AdmissionResponse response;
    try {
      response = injector.review(review.getRequest());
    } catch (RuntimeException e) {
      log.warn("event=webhook_failed uid={} error=\"{}\"", review.getRequest().getUid(), e.toString());
      return new Answer(HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain",
          "taskmesh sidecar injection failed: " + e.getMessage(), "failed");
    }
    log.debug("event=webhook_reviewed uid={} namespace={} allowed={} patched={}", response.getUid(),
        review.getRequest().getNamespace(), response.getAllowed(), response.getPatch() != null);
    AdmissionReview answer = new AdmissionReviewBuilder().withApiVersion("admission.k8s.io/v1")
        .withKind("AdmissionReview").withResponse(response).build();
    String outcome = !Boolean.TRUE.equals(response.getAllowed()) ? "denied"
        : response.getPatch() != null ? "injected" : "allowed";
    try {
      return new Answer(HttpResponseStatus.OK, "application/json", JSON.writeValueAsString(answer), outcome);
    } catch (IOException e) {
      return new Answer(HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain", "cannot write the answer: " + e, "failed");
    }
  }

  @Override
  public void close() {
    listener.close().syncUninterruptibly();
    loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    reviews.shutdownNow();
  }
}
