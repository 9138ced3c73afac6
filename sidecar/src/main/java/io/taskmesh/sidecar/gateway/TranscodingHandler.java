package io.taskmesh.sidecar.gateway;

import com.google.protobuf.DynamicMessage;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.taskmesh.config.GatewayRoute;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/JSON request, top to bottom: correlation id, the gateway's own {@code /health} and {@code /metrics},
 * route, per-client limit, the RPC its path binds, the request message, the call through the mesh, and the
 * answer (JSON, NDJSON or SSE). Serves HTTP/1.1 connections and HTTP/2 streams alike; a connection reads its
 * next request only once this one is answered.
 */
final class TranscodingHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(TranscodingHandler.class);

  private final GatewayContext gateway;
  private volatile ClientCall<DynamicMessage, DynamicMessage> inFlight;
  private volatile Exchange exchange;
  private volatile io.netty.channel.Channel channel;

  TranscodingHandler(GatewayContext gateway) {
    this.gateway = gateway;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    channel = ctx.channel();
    ctx.channel().config().setAutoRead(false);
    String correlationId = CorrelationIds.pick(request.headers().get(gateway.correlationHeader()),
        request.headers().get("x-request-id"));
    String client = gateway.clients().of(ctx.channel(), request.headers().get("x-forwarded-for"));
    boolean decoded = request.decoderResult().isSuccess();
    Exchange exchange = new Exchange(ctx, request.method().name(), request.uri(),
        decoded && HttpUtil.isKeepAlive(request), client, gateway.correlationHeader(), correlationId, gateway.metrics());
    this.exchange = exchange;
    try {
      handle(request, exchange, decoded);
    } catch (RuntimeException e) {
      internalError(exchange, e);
    }
  }

  private void handle(FullHttpRequest request, Exchange exchange, boolean decoded) {
    if (!decoded) {
      Throwable cause = request.decoderResult().cause();
      int status = cause instanceof TooLongHttpHeaderException ? 431 : cause instanceof TooLongHttpLineException ? 414 : 400;
      exchange.error(status, "INVALID_ARGUMENT", "malformed HTTP request: " + cause.getMessage(), "bad_request", Map.of());
      return;
    }
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    if (GatewayStatus.answers(request.method().name(), uri.path())) {
      // not rate limited: load balancers and probes poll it, and it costs next to nothing
      exchange.routedTo("gateway", uri.path());
      exchange.respond(200, "application/json", gateway.status().json(uri.path()), Map.of());
      return;
    }
    Optional<GatewayRoute> route = gateway.routes().match(request.headers().get(HttpHeaderNames.HOST), uri.path());
    route.ifPresent(matched -> exchange.routedTo(matched.service(), matched.pathPrefix()));
    if (route.isEmpty() || !route.get().transcode()) {
      exchange.error(404, "NOT_FOUND", route.isEmpty()
              ? "no gateway route for " + uri.path()
              : "route " + route.get().pathPrefix() + " takes gRPC only (transcode is off)",
          "no_route", Map.of());
      return;
    }
    String service = route.get().service();
    String body = request.content().toString(StandardCharsets.UTF_8);
    boolean sse = String.valueOf(request.headers().get(HttpHeaderNames.ACCEPT)).contains("text/event-stream");
    String httpMethod = request.method().name();
    Metadata upstreamHeaders = UpstreamHeaders.of(request.headers(), gateway.correlationHeader(),
        exchange.correlationId());
    gateway.descriptors().table(service).whenComplete((table, failure) -> {
      if (failure != null) {
        Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
        exchange.error(503, "UNAVAILABLE", "gateway: cannot learn the methods of " + service + ": "
            + Status.fromThrowable(cause).getDescription(), "no_descriptors", Map.of());
        return;
      }
      try {
        transcode(exchange, service, table, httpMethod, uri, body, sse, upstreamHeaders);
      } catch (RuntimeException e) {
        internalError(exchange, e);
      }
    });
  }

  /** A bug of the gateway's, not the caller's: answered (rather than left hanging) and logged. */
  private static void internalError(Exchange exchange, RuntimeException e) {
    log.warn("event=gateway_internal_error correlation_id={}", exchange.correlationId(), e);
    exchange.error(500, "INTERNAL", "gateway: internal error (" + e.getClass().getSimpleName() + "), correlation id "
        + exchange.correlationId(), "internal", Map.of());
  }

  private void transcode(Exchange exchange, String service, TranscodingTable table, String httpMethod,
      QueryStringDecoder uri, String body, boolean sse, Metadata headers) {
    Optional<TranscodingTable.Match> match = table.find(httpMethod, uri.path());
    if (match.isEmpty()) {
      var allowed = table.methodsFor(uri.path());
      if (allowed.isEmpty()) {
        exchange.error(404, "NOT_FOUND", "no method of " + service + " is bound to " + uri.path(), "no_method", Map.of());
      } else {
        exchange.error(405, "UNIMPLEMENTED", httpMethod + " is not bound to " + uri.path() + "; try " + allowed,
            "method_not_allowed", Map.of("allow", String.join(", ", allowed)));
      }
      return;
    }
    HttpBinding binding = match.get().binding();
    exchange.routedTo(service, binding.grpcPath());
    DynamicMessage message;
    try {
      message = RequestTranscoder.build(match.get(), body, uri.parameters());
    } catch (BadRequest e) {
      exchange.error(400, "INVALID_ARGUMENT", e.getMessage(), "bad_request", Map.of());
      return;
    }
    if (binding.rpc().isServerStreaming() && !takeStreamPermit(exchange)) {
      return;
    }
    ClientCall<DynamicMessage, DynamicMessage> call = gateway.upstream().newCall(service, binding.rpc(),
        binding.rpc().isServerStreaming() ? null : unaryTimeout(service));
    Runnable descriptorsMayBeStale = () -> gateway.descriptors().invalidate(service);
    ClientCall.Listener<DynamicMessage> listener = binding.rpc().isServerStreaming()
        ? new StreamingResponse(exchange, call, sse, descriptorsMayBeStale)
        : new UnaryResponse(exchange, descriptorsMayBeStale);
    inFlight = call;
    UpstreamCalls.send(call, listener, headers, message);
  }

  /** A watch counts against its client's stream cap, not the cap unary calls share; false when that is full. */
  private boolean takeStreamPermit(Exchange exchange) {
    ClientAdmission.Permit permit = RequestAdmission.currentPermit(channel);
    ClientAdmission.Refusal refused = permit == null ? null : permit.becomeStream();
    if (refused == null) {
      return true;
    }
    gateway.metrics().rateLimited(exchange.service());
    exchange.error(429, "RESOURCE_EXHAUSTED", "gateway: client " + exchange.client() + ": " + refused.detail(),
        refused.reason(), Map.of());
    return false;
  }

  /** The service's configured timeout, or null (none) when it is zero. */
  private Duration unaryTimeout(String service) {
    Duration timeout = gateway.unaryTimeout().apply(gateway.routes().clusterOf(service));
    return timeout == null || timeout.isZero() ? null : timeout;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ClientCall<DynamicMessage, DynamicMessage> call = inFlight;
    Exchange current = exchange;
    if (call != null && current != null && !current.isFinished()) {
      call.cancel("the HTTP client went away", null);
      current.abandoned();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
