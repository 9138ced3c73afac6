package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.route.GrpcTimeout;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawBytesMarshaller;
import io.taskmesh.sidecar.support.RawHttp2Client;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A backend slower than the caller's deadline: the sidecar answers DEADLINE_EXCEEDED itself when the time
 * is up (the caller here is a bare HTTP/2 client that does not enforce its own deadline), forwards only
 * the time that is left, and the backend sees its call cancelled.
 */
class DeadlineTest {
  private static final MethodDescriptor<byte[], byte[]> WAIT = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("proxytest.Slow/Wait")
      .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
      .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
      .build();

  @Test
  void aBackendSlowerThanTheDeadlineGetsCancelledAndTheCallerGetsDeadlineExceededFromTheSidecar() throws Exception {
    CountDownLatch cancelled = new CountDownLatch(1);
    AtomicReference<String> forwardedTimeout = new AtomicReference<>();
    Server slow = startNeverAnsweringBackend(cancelled, forwardedTimeout);
    try (MeshFixture mesh = new MeshFixture();
        RawHttp2Client caller = new RawHttp2Client(serverSidecar(mesh, slow.getPort()).inboundPort())) {
      long start = System.nanoTime();
      Http2StreamFrame answer = caller.send(new DefaultHttp2Headers()
          .method("POST").scheme("http").path("/proxytest.Slow/Wait").authority(MeshFixture.SERVICE)
          .set("content-type", "application/grpc").set("te", "trailers")
          .set(GrpcTimeout.HEADER, "300m"), new byte[0]);
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(answer).isInstanceOf(Http2HeadersFrame.class);
      DefaultHttp2Headers trailers = (DefaultHttp2Headers) ((Http2HeadersFrame) answer).headers();
      assertThat(trailers.get("grpc-status")).hasToString("4");
      assertThat(trailers.get("grpc-message").toString()).contains("server-sidecar").contains("deadline of 300 ms exceeded");
      assertThat(trailers.get("taskmesh-error").toString()).contains("reason=deadline_exceeded");
      assertThat(tookMillis).as("answered near the deadline, not at some later timeout").isLessThan(10_000);
      assertThat(cancelled.await(30, TimeUnit.SECONDS)).as("the backend saw its call cancelled").isTrue();
      Duration forwarded = GrpcTimeout.parse(forwardedTimeout.get()).orElseThrow();
      assertThat(forwarded).as("only the time that was left went on").isPositive().isLessThanOrEqualTo(Duration.ofMillis(300));
    } finally {
      slow.shutdownNow();
    }
  }

  @Test
  void theLongestValidTimeoutIsAFarDeadlineNotAReset() throws Exception {
    Server slow = startNeverAnsweringBackend(new CountDownLatch(1), new AtomicReference<>());
    try (MeshFixture mesh = new MeshFixture();
        RawHttp2Client caller = new RawHttp2Client(serverSidecar(mesh, slow.getPort()).inboundPort())) {
      Http2StreamFrame answer = caller.send(new DefaultHttp2Headers()
          .method("POST").scheme("http").path("/proxytest.Missing/Method").authority(MeshFixture.SERVICE)
          .set("content-type", "application/grpc").set("te", "trailers")
          .set(GrpcTimeout.HEADER, "99999999H"), new byte[0]); // some 11,000 years: valid, at most 8 digits

      assertThat(answer).as("an answer, not a reset").isInstanceOf(Http2HeadersFrame.class);
      assertThat(((Http2HeadersFrame) answer).headers().get("grpc-status")).as("the app's answer").hasToString("12");
    } finally {
      slow.shutdownNow();
    }
  }

  private static Sidecar serverSidecar(MeshFixture mesh, int appPort) {
    return mesh.sidecar(MeshConfigParser.parse("""
        service: %s
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        """.formatted(MeshFixture.SERVICE, appPort)));
  }

  private static Server startNeverAnsweringBackend(CountDownLatch cancelled, AtomicReference<String> forwardedTimeout)
      throws IOException {
    ServerServiceDefinition service = ServerServiceDefinition.builder("proxytest.Slow")
        .addMethod(WAIT, ServerCalls.asyncUnaryCall((request, response) ->
            Context.current().addListener(context -> cancelled.countDown(), Runnable::run)))
        .build();
    ServerInterceptor recordTimeout = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        forwardedTimeout.set(headers.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER)));
        return next.startCall(call, headers);
      }
    };
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(service, recordTimeout)).build().start();
  }
}
