package io.taskmesh.sidecar.support;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitReply;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real gRPC server (with reflection, as the task-service has) whose unary answers take as long as it is
 * told: {@code answerAfterMillis} below zero means never (until the caller cancels). Counts what it saw.
 */
public final class PatienceBackend implements AutoCloseable {
  private final String name;
  private final long answerAfterMillis;
  private final Server server;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger cancelled = new AtomicInteger();
  private final AtomicInteger openWatches = new AtomicInteger();
  private volatile io.grpc.Metadata lastHeaders = new io.grpc.Metadata();

  public PatienceBackend(String name, long answerAfterMillis) {
    this.name = name;
    this.answerAfterMillis = answerAfterMillis;
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(io.grpc.ServerInterceptors.intercept(new Service(), new HeaderRecorder()))
          .addService(ProtoReflectionServiceV1.newInstance())
          .build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getPort();
  }

  public int calls() {
    return calls.get();
  }

  /** Calls whose caller gave up before the answer. */
  public int cancelled() {
    return cancelled.get();
  }

  /** A request header of the last call, as the app received it (null when absent). */
  public String lastHeader(String name) {
    return lastHeaders.get(io.grpc.Metadata.Key.of(name, io.grpc.Metadata.ASCII_STRING_MARSHALLER));
  }

  public int openWatches() {
    return openWatches.get();
  }

  @Override
  public void close() {
    timer.shutdownNow();
    server.shutdownNow();
  }

  private final class HeaderRecorder implements io.grpc.ServerInterceptor {
    @Override
    public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata headers,
        io.grpc.ServerCallHandler<Q, R> next) {
      lastHeaders = headers;
      return next.startCall(call, headers);
    }
  }

  private final class Service extends PatienceGrpc.PatienceImplBase {
    @Override
    public void wait(WaitRequest request, StreamObserver<WaitReply> replies) {
      answer(replies);
    }

    @Override
    public void look(WaitRequest request, StreamObserver<WaitReply> replies) {
      answer(replies);
    }

    @Override
    public void watch(WaitRequest request, StreamObserver<WaitReply> replies) {
      openWatches.incrementAndGet();
      ((ServerCallStreamObserver<WaitReply>) replies).setOnCancelHandler(() -> {
        openWatches.decrementAndGet();
        cancelled.incrementAndGet();
      });
    }

    private void answer(StreamObserver<WaitReply> replies) {
      calls.incrementAndGet();
      ServerCallStreamObserver<WaitReply> call = (ServerCallStreamObserver<WaitReply>) replies;
      call.setOnCancelHandler(cancelled::incrementAndGet);
      if (answerAfterMillis < 0) {
        return;
      }
      timer.schedule(() -> {
        if (!call.isCancelled()) {
          call.onNext(WaitReply.newBuilder().setServedBy(name).build());
          call.onCompleted();
        }
      }, answerAfterMillis, TimeUnit.MILLISECONDS);
    }
  }
}
