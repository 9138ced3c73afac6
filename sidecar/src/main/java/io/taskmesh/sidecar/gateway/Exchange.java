package io.taskmesh.sidecar.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.taskmesh.sidecar.codec.ProxyError;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP request and its answer: a whole response, or a streamed one (head, chunks, end). Every answer
 * carries the correlation id; when it is over, the access log line and the metrics are written and the
 * connection reads its next request.
 */
final class Exchange {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Logger accessLog = LoggerFactory.getLogger("io.taskmesh.gateway.access");

  private final ChannelHandlerContext ctx;
  private final String httpMethod;
  private final String uri;
  private final boolean keepAlive;
  private final String client;
  private final String correlationHeader;
  private final String correlationId;
  private final GatewayMetrics metrics;
  private final long startNanos = System.nanoTime();
  private volatile String service = "none";
  private volatile String method;
  private volatile int streamStatus;
  private volatile boolean finished;

  Exchange(ChannelHandlerContext ctx, String httpMethod, String uri, boolean keepAlive, String client,
      String correlationHeader, String correlationId, GatewayMetrics metrics) {
    this.ctx = ctx;
    this.httpMethod = httpMethod;
    this.uri = uri;
    this.keepAlive = keepAlive;
    this.client = client;
    this.correlationHeader = correlationHeader;
    this.correlationId = correlationId;
    this.metrics = metrics;
    this.method = "none";
  }

  String correlationId() {
    return correlationId;
  }

  String client() {
    return client;
  }

  String service() {
    return service;
  }

  /**
   * What the request turned out to be, for metrics and the access log: the route's path prefix until the RPC
   * is known, then the gRPC method. Never the raw path, so clients cannot mint new metric series.
   */
  void routedTo(String service, String method) {
    this.service = service;
    this.method = method;
  }

  boolean isFinished() {
    return finished;
  }

  void respond(int status, String contentType, String body, Map<String, String> extraHeaders) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
        .set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    decorate(response.headers(), extraHeaders);
    if (finish(status)) {
      afterLastWrite(ctx.writeAndFlush(response));
    }
  }

  /**
   * An error the gateway answers as JSON {@code {"code": ..., "message": ...}}.
   *
   * @param code the gRPC status name that says what kind of failure it is
   * @param reason when the gateway itself refused the request: the machine-readable reason for
   *     {@code taskmesh-error}; null for the upstream's own errors
   */
  void error(int status, String code, String message, String reason, Map<String, String> extraHeaders) {
    Map<String, String> headers = new LinkedHashMap<>(extraHeaders);
    if (reason != null) {
      headers.put(ProxyError.ERROR_HEADER, "hop=gateway; target=" + service + "; reason=" + reason);
    }
    respond(status, "application/json", errorBody(code, message).toString(), headers);
  }

  /**
   * The 429 of the per-client limit: besides our {@code code}, {@code message} and {@code correlationId},
   * {@code error} and {@code retryAfter} (seconds), which clients written for a plain express-style gateway
   * read, and the {@code retry-after} header.
   */
  void tooManyRequests(String message, long retryAfterSeconds) {
    ObjectNode body = errorBody("RESOURCE_EXHAUSTED", message)
        .put("error", "too many requests")
        .put("retryAfter", retryAfterSeconds);
    respond(429, "application/json", body.toString(), Map.of(
        "retry-after", Long.toString(retryAfterSeconds),
        ProxyError.ERROR_HEADER, "hop=gateway; target=" + service + "; reason=rate_limited"));
  }

  String errorJson(String code, String message) {
    return errorBody(code, message).toString();
  }

  private ObjectNode errorBody(String code, String message) {
    return MAPPER.createObjectNode()
        .put("code", code)
        .put("message", message)
        .put("correlationId", correlationId);
  }

  void startStream(int status, String contentType) {
    streamStatus = status;
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    head.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
        .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
        .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    decorate(head.headers(), Map.of());
    ctx.writeAndFlush(head);
  }

  ChannelFuture writeChunk(String text) {
    return ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
  }

  void endStream() {
    if (finish(streamStatus)) {
      afterLastWrite(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
    }
  }

  /** The caller went away before the answer was complete. */
  void abandoned() {
    if (!finished) {
      finished = true;
      record(499);
    }
  }

  private void decorate(HttpHeaders headers, Map<String, String> extraHeaders) {
    extraHeaders.forEach(headers::set);
    headers.set(correlationHeader, correlationId);
    HttpUtil.setKeepAlive(headers, HttpVersion.HTTP_1_1, keepAlive);
  }

  /** Records the outcome (before the last write, so whoever sees the answer finds it logged); false if done already. */
  private boolean finish(int status) {
    if (finished) {
      return false;
    }
    finished = true;
    record(status);
    return true;
  }

  private void afterLastWrite(ChannelFuture written) {
    if (keepAlive) {
      written.addListener(done -> {
        ctx.channel().config().setAutoRead(true);
      });
    } else {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void record(int status) {
    long nanos = System.nanoTime() - startNanos;
    metrics.request(service, method, status, nanos);
    accessLog.info("correlation_id={} client={} method={} uri={} service={} rpc={} status={} duration_ms={}",
        correlationId, client, httpMethod, uri, service, method, status, String.format("%.1f", nanos / 1e6));
  }
}
