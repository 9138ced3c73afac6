package io.taskmesh.sidecar.gateway;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.listener.StreamGate;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Looks at the first HEADERS of an HTTP/2 stream on the gateway port and hands the stream on: gRPC
 * ({@code content-type: application/grpc...}) to the proxy's stream handler, once the overload check, the
 * edge's header rules and the client's gate (token and permit, charged now) let it through, and with a
 * correlation id; anything else, as HTTP objects, to the {@link RequestAdmission} and then the
 * {@link TranscodingHandler}.
 */
final class StreamDispatcher extends ChannelInboundHandlerAdapter {
  private static final AsciiString GRPC = AsciiString.of("application/grpc");

  private final GatewayContext gateway;
  private final Supplier<ChannelHandler> grpcProxy;
  private boolean dispatched;
  private boolean refused;

  StreamDispatcher(GatewayContext gateway, Supplier<ChannelHandler> grpcProxy) {
    this.gateway = gateway;
    this.grpcProxy = grpcProxy;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
    } else if (dispatched) {
      ctx.fireChannelRead(msg); // frames read in the same batch as the HEADERS
    } else if (msg instanceof Http2HeadersFrame headers) {
      dispatched = true;
      CharSequence contentType = headers.headers().get("content-type");
      if (contentType != null && AsciiString.regionMatches(contentType, true, 0, GRPC, 0, GRPC.length())) {
        toGrpcProxy(ctx, headers);
      } else {
        toTranscoder(ctx, headers);
      }
    } else {
      ReferenceCountUtil.release(msg);
      ctx.close();
    }
  }

  private void toGrpcProxy(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    String overloaded = gateway.overload().cause();
    if (overloaded != null) {
      gateway.overload().refused("gateway");
      refuse(ctx, StreamGate.refusal("gateway", overloaded));
      return;
    }
    sanitize(headers);
    String client = gateway.clients().of(ctx.channel(), header(headers, "x-forwarded-for"));
    ClientAdmission.Decision decision = gateway.admission().admit(client);
    String service = gateway.routes().match(header(headers, ":authority"), header(headers, ":path"))
        .map(route -> route.service()).orElse("none");
    if (decision instanceof ClientAdmission.Permit permit && isStream(service, header(headers, ":path"))) {
      ClientAdmission.Refusal full = permit.becomeStream();
      if (full != null) {
        permit.release();
        decision = full;
      }
    }
    if (decision instanceof ClientAdmission.Refusal refusal) {
      gateway.metrics().rateLimited(service);
      refuse(ctx, new ProxyError("gateway", "client " + client, ProxyError.RESOURCE_EXHAUSTED, refusal.reason(),
          refusal.detail(), TimeUnit.NANOSECONDS.toMillis(refusal.retryAfterNanos())));
      return;
    }
    ClientAdmission.Permit permit = (ClientAdmission.Permit) decision;
    ctx.channel().closeFuture().addListener(closed -> permit.release());
    // like a transcoded call, a plain gRPC call reaches the app with a correlation id: the caller's or a new one
    headers.set(gateway.correlationHeader(), CorrelationIds.pick(
        header(headers, gateway.correlationHeader()), header(headers, "x-request-id")));
    ctx.pipeline().addAfter(ctx.name(), "grpc-proxy", grpcProxy.get());
    // the proxy handler starts on channelActive; the stream is active already, so it is told here
    ctx.fireChannelActive();
    ctx.fireChannelRead(frame);
    ctx.pipeline().remove(this);
  }

  private boolean isStream(String service, String path) {
    return path != null && gateway.methods().shape(gateway.routes().clusterOf(service), path)
        .map(shape -> !shape.unary()).orElse(false);
  }

  private void refuse(ChannelHandlerContext ctx, ProxyError error) {
    refused = true;
    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(error.toTrailersOnly(), true));
    ctx.channel().config().setAutoRead(true); // drains and releases the rest of the request
  }

  private void toTranscoder(ChannelHandlerContext ctx, Http2HeadersFrame headers) {
    ctx.pipeline().addAfter(ctx.name(), "transcoder", new TranscodingHandler(gateway));
    ctx.pipeline().addAfter(ctx.name(), "aggregator", new HttpObjectAggregator(gateway.config().maxRequestBodyBytes()));
    ctx.pipeline().addAfter(ctx.name(), "admission", new RequestAdmission(gateway));
    ctx.pipeline().addAfter(ctx.name(), "http-objects", new Http2StreamFrameToHttpObjectCodec(true));
    ctx.channel().config().setAutoRead(true);
    ctx.fireChannelRead(headers);
    ctx.pipeline().remove(this);
  }

  private void sanitize(Http2Headers headers) {
    gateway.edgeHeaders().sanitize(name -> header(headers, name), (name, value) -> {
      if (value == null) {
        headers.remove(name);
      } else {
        headers.set(name, value);
      }
    });
  }

  private static String header(Http2Headers headers, String name) {
    CharSequence value = headers.get(name);
    return value == null ? null : value.toString();
  }
}
