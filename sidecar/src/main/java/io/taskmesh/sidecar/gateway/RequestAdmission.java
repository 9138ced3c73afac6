package io.taskmesh.sidecar.gateway;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP request at the gateway, from its headers to its last body byte, before it is buffered whole: the
 * overload check, the client's gate (token and concurrency permit, charged now, not once a body is complete),
 * the body size limit, the body timeout and the connection's buffer cap (what all its requests' bodies hold
 * at once). A request refused here is answered at once and its body is dropped. The permit is given back
 * when the answer's last byte is written.
 */
final class RequestAdmission extends ChannelDuplexHandler {
  /** Permits of the requests admitted on this channel and not yet answered, oldest first (HTTP/1.1 pipelines). */
  private static final AttributeKey<java.util.ArrayDeque<ClientAdmission.Permit>> PERMITS =
      AttributeKey.valueOf("taskmesh.gateway.permits");
  /** Body bytes buffered by all requests of one connection. */
  private static final AttributeKey<long[]> CONNECTION_BUFFERED = AttributeKey.valueOf("taskmesh.gateway.buffered");

  private final GatewayContext gateway;
  private ChannelHandlerContext ctx;
  private HttpRequest request;
  private ScheduledFuture<?> bodyTimer;
  private long bodyBytes;
  private boolean dropping;
  private boolean declaredTooLarge;

  RequestAdmission(GatewayContext gateway) {
    this.gateway = gateway;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest headers) {
      dropping = false;
      declaredTooLarge = false;
      request = headers;
      if (!admit(headers)) {
        dropping = true;
      } else if (!(msg instanceof LastHttpContent) && !gateway.config().requestBodyTimeout().isZero()) {
        bodyTimer = ctx.executor().schedule(this::bodyTimedOut, gateway.config().requestBodyTimeout().toNanos(),
            TimeUnit.NANOSECONDS);
      }
    }
    if (dropping) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpContent content && !(msg instanceof HttpRequest) && !declaredTooLarge && !buffer(content)) {
      return;
    }
    ctx.fireChannelRead(msg);
    if (msg instanceof LastHttpContent) {
      bodyEnded();
    }
  }

  private boolean admit(HttpRequest headers) {
    String cause = gateway.overload().cause();
    if (cause != null) {
      gateway.overload().refused("gateway");
      refuse(503, "UNAVAILABLE", "gateway overloaded, new requests are refused: " + cause, "overloaded",
          Map.of("retry-after", "1"));
      return false;
    }
    if (GatewayStatus.answers(headers.method().name(), new QueryStringDecoder(headers.uri()).path())) {
      return true; // the gateway's own /health and /metrics: load balancers poll them, they cost next to nothing
    }
    long declared = HttpUtil.getContentLength(headers, -1L);
    if (declared > gateway.config().maxRequestBodyBytes()) {
      // the aggregator answers 413 at once and discards the body as HTTP/1.1 wants; nothing of it is held
      gateway.budgetCounter().exceeded("request_body_size");
      declaredTooLarge = true;
      return true;
    }
    gateway.edgeHeaders().sanitize(headers.headers()::get, (name, value) -> {
      if (value == null) {
        headers.headers().remove(name);
      } else {
        headers.headers().set(name, value);
      }
    });
    String client = gateway.clients().of(ctx.channel(), headers.headers().get("x-forwarded-for"));
    ClientAdmission.Decision decision = gateway.admission().admit(client);
    if (decision instanceof ClientAdmission.Refusal refusal) {
      refuseForClient(refusal, client, route(headers));
      return false;
    }
    permits(ctx.channel()).add((ClientAdmission.Permit) decision);
    return true;
  }

  private boolean buffer(HttpContent content) {
    int bytes = content.content().readableBytes();
    bodyBytes += bytes;
    long[] buffered = connectionBuffered();
    buffered[0] += bytes;
    if (bodyBytes > gateway.config().maxRequestBodyBytes()) {
      content.release();
      tooLarge();
      return false;
    }
    if (buffered[0] > gateway.budgets().maxConnectionBufferBytes()) {
      content.release();
      gateway.budgetCounter().exceeded("connection_buffer");
      refuse(503, "RESOURCE_EXHAUSTED", "this connection's requests hold " + buffered[0] + " body bytes, over its"
          + " limit of " + gateway.budgets().maxConnectionBufferBytes() + " (budgets.gateway.maxConnectionBufferBytes)",
          "connection_buffer_full", Map.of());
      return false;
    }
    return true;
  }

  private void tooLarge() {
    gateway.budgetCounter().exceeded("request_body_size");
    refuse(413, "INVALID_ARGUMENT", "the request body is over " + gateway.config().maxRequestBodyBytes()
        + " bytes (gateway.maxRequestBodyBytes)", "request_too_large", Map.of());
  }

  private void bodyTimedOut() {
    bodyTimer = null;
    gateway.budgetCounter().exceeded("request_body_timeout");
    refuse(408, "DEADLINE_EXCEEDED", "the request body did not end within "
        + gateway.config().requestBodyTimeout().toMillis() + " ms (gateway.requestBodyTimeout)",
        "request_body_timeout", Map.of());
  }

  private void refuseForClient(ClientAdmission.Refusal refusal, String client, String service) {
    gateway.metrics().rateLimited(service);
    String message = "gateway: client " + client + ": " + refusal.detail();
    if (refusal.retryAfterNanos() == 0) {
      refuse(429, "RESOURCE_EXHAUSTED", message, refusal.reason(), Map.of());
      return;
    }
    long retryAfterSeconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(refusal.retryAfterNanos() + 999_999_999));
    exchangeForRefusal().tooManyRequests(message + "; retry after " + retryAfterSeconds + " s", retryAfterSeconds);
  }

  /** Answers now and closes (the rest of the body is not read): one error, then nothing more of this request. */
  private void refuse(int status, String code, String message, String reason, Map<String, String> headers) {
    exchangeForRefusal().error(status, code, message, reason, headers);
  }

  /** The exchange that answers a refused request, then closes its stream or connection. */
  private Exchange exchangeForRefusal() {
    dropping = true;
    bodyEnded();
    String correlationId = CorrelationIds.pick(request.headers().get(gateway.correlationHeader()),
        request.headers().get("x-request-id"));
    Exchange exchange = new Exchange(ctx, request.method().name(), request.uri(), false,
        gateway.clients().of(ctx.channel(), null), gateway.correlationHeader(), correlationId, gateway.metrics());
    exchange.routedTo(route(request), "none");
    return exchange;
  }

  private String route(HttpRequest headers) {
    return gateway.routes().match(headers.headers().get(HttpHeaderNames.HOST), new QueryStringDecoder(headers.uri()).path()).map(route -> route.service()).orElse("none");
  }

  /** The body is whole (or refused): the timer stops and the connection's count forgets this body. */
  private void bodyEnded() {
    if (bodyTimer != null) {
      bodyTimer.cancel(false);
      bodyTimer = null;
    }
    connectionBuffered()[0] -= bodyBytes;
    bodyBytes = 0;
  }

  private long[] connectionBuffered() {
    Channel connection = ctx.channel() instanceof Http2StreamChannel stream ? stream.parent() : ctx.channel();
    long[] buffered = connection.attr(CONNECTION_BUFFERED).get();
    if (buffered == null) {
      buffered = new long[1];
      connection.attr(CONNECTION_BUFFERED).set(buffered);
    }
    return buffered;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof LastHttpContent) {
      ClientAdmission.Permit permit = permits(ctx.channel()).poll();
      if (permit != null) {
        ctx.write(msg, promise).addListener((ChannelFutureListener) written -> permit.release());
        return;
      }
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    bodyEnded();
    java.util.ArrayDeque<ClientAdmission.Permit> left = permits(ctx.channel());
    while (!left.isEmpty()) {
      left.poll().release();
    }
    ctx.fireChannelInactive();
  }

  /** The permit of the request being answered on {@code channel}, or null. */
  static ClientAdmission.Permit currentPermit(Channel channel) {
    return permits(channel).peek();
  }

  private static java.util.ArrayDeque<ClientAdmission.Permit> permits(Channel channel) {
    java.util.ArrayDeque<ClientAdmission.Permit> permits = channel.attr(PERMITS).get();
    if (permits == null) {
      permits = new java.util.ArrayDeque<>(2);
      channel.attr(PERMITS).set(permits);
    }
    return permits;
  }
}
