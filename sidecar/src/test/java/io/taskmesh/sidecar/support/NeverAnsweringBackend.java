package io.taskmesh.sidecar.support;

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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A gRPC app on loopback whose one method, {@link #WAIT}, never answers: it remembers the {@code grpc-timeout}
 * the last call came with and counts the calls that were cancelled.
 */
public final class NeverAnsweringBackend implements AutoCloseable {
  public static final MethodDescriptor<byte[], byte[]> WAIT = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("proxytest.Slow/Wait")
      .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
      .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
      .build();

  private final AtomicInteger cancelled = new AtomicInteger();
  private final AtomicReference<String> lastTimeout = new AtomicReference<>();
  private final Server server;

  private NeverAnsweringBackend() throws IOException {
    ServerServiceDefinition service = ServerServiceDefinition.builder("proxytest.Slow")
        .addMethod(WAIT, ServerCalls.asyncUnaryCall((request, response) ->
            Context.current().addListener(context -> cancelled.incrementAndGet(), Runnable::run)))
        .build();
    ServerInterceptor recordTimeout = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        lastTimeout.set(headers.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER)));
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(service, recordTimeout)).build().start();
  }

  public static NeverAnsweringBackend start() {
    try {
      return new NeverAnsweringBackend();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getPort();
  }

  public int cancelledCalls() {
    return cancelled.get();
  }

  /** The {@code grpc-timeout} header of the last call, if it had one. */
  public Optional<String> lastTimeout() {
    return Optional.ofNullable(lastTimeout.get());
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
