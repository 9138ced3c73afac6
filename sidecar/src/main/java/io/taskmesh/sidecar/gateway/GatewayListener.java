package io.taskmesh.sidecar.gateway;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.flow.FlowControlHandler;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.codec.Http2Codecs;
import io.taskmesh.sidecar.codec.ProtocolSniffer;
import io.taskmesh.sidecar.listener.BudgetedServer;
import io.taskmesh.sidecar.listener.Http1Activity;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The gateway port: HTTP/1.1 requests are transcoded; HTTP/2 (h2c prior knowledge, or h2 by ALPN over TLS) streams
 * are transcoded or, when they are gRPC, proxied like outbound calls. With {@code gateway.tls} the port speaks TLS
 * only. Within the gateway's budgets ({@code budgets.gateway}).
 */
final class GatewayListener implements AutoCloseable {
  private static final int MAX_INITIAL_LINE = 8 * 1024;

  private final BudgetedServer server;

  GatewayListener(NettyResources netty, String host, int port, GatewayContext gateway,
      Supplier<ChannelHandler> grpcProxy, Duration drainTimeout, Optional<EdgeTls> tls) {
    ChannelInitializer<Http2StreamChannel> streams = new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel stream) {
        stream.config().setAutoRead(false);
        stream.pipeline().addLast(new StreamDispatcher(gateway, grpcProxy));
      }
    };
    server = new BudgetedServer(netty, host, port, gateway.budgets(), gateway.budgetCounter(), drainTimeout,
        pipeline -> {
          // with TLS, the protocol is told from the decrypted bytes, as ALPN agreed (h2 or http/1.1)
          tls.ifPresent(edge -> pipeline.addLast("tls", edge.newHandler(pipeline.channel().alloc())));
          pipeline.addLast(new ProtocolSniffer(
            () -> Http2Codecs.serverHandlers(gateway.budgets(), drainTimeout, gateway.budgetCounter()::exceeded,
                new Http2MultiplexHandler(streams)),
            () -> new ChannelHandler[] {
              new HttpServerCodec(MAX_INITIAL_LINE, Http2Codecs.MAX_HEADER_LIST_SIZE, 8192),
              new Http1Activity(),
              new RequestAdmission(gateway),
              new HttpObjectAggregator(gateway.config().maxRequestBodyBytes()),
              // holds a pipelined request until the one before it is answered (reads are off meanwhile)
              new FlowControlHandler(),
              new TranscodingHandler(gateway)}));
        });
  }

  int port() {
    return server.port();
  }

  void stopAccepting() {
    server.stopAccepting();
  }

  void closeConnections() {
    server.closeConnections();
  }

  @Override
  public void close() {
    server.close();
  }
}
