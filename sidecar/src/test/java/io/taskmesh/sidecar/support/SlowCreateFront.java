package io.taskmesh.sidecar.support;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A task service whose store is slow: CreateTask reaches a real task-service only after {@code delay}, and
 * reaches it even when the caller has given up meanwhile (as a slow database write still commits). Serves
 * reflection, so the sidecar learns CreateTask is neither idempotent nor free of side effects.
 */
public final class SlowCreateFront implements AutoCloseable {
  private final ManagedChannel store;
  private final Server server;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger stored = new AtomicInteger();

  public SlowCreateFront(int taskServicePort, Duration delay) {
    store = NettyChannelBuilder.forAddress("127.0.0.1", taskServicePort).usePlaintext().build();
    TaskServiceGrpc.TaskServiceBlockingStub tasks = TaskServiceGrpc.newBlockingStub(store);
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(new TaskServiceGrpc.TaskServiceImplBase() {
            @Override
            public void createTask(CreateTaskRequest request, StreamObserver<TaskResponse> response) {
              calls.incrementAndGet();
              // once the caller has cancelled, the answer is dropped quietly
              ((ServerCallStreamObserver<TaskResponse>) response).setOnCancelHandler(() -> { });
              timer.schedule(() -> {
                TaskResponse created = tasks.withDeadlineAfter(30, TimeUnit.SECONDS).createTask(request);
                stored.incrementAndGet();
                response.onNext(created);
                response.onCompleted();
              }, delay.toMillis(), TimeUnit.MILLISECONDS);
            }
          })
          .addService(ProtoReflectionServiceV1.newInstance())
          .build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** CreateTask calls that reached this service. */
  public int calls() {
    return calls.get();
  }

  /** Of those, the ones written to the store so far. */
  public int stored() {
    return stored.get();
  }

  @Override
  public void close() {
    timer.shutdownNow();
    server.shutdownNow();
    store.shutdownNow();
  }
}
