package io.taskmesh.taskservice.client;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.DeleteResponse;
import io.taskmesh.taskservice.api.DeleteTaskRequest;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A small client of the task service. Every unary call and list carries a deadline; failures surface as
 * {@link io.grpc.StatusRuntimeException} with the server's status and message.
 */
public final class TaskClient implements AutoCloseable {
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final Duration deadline;

  public TaskClient(ManagedChannel channel, Duration deadline) {
    this(channel, false, deadline);
  }

  private TaskClient(ManagedChannel channel, boolean ownsChannel, Duration deadline) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    this.deadline = deadline;
  }

  /** Plaintext to {@code host:port}. */
  public static TaskClient connect(String target) {
    return connect(target, null, DEFAULT_DEADLINE);
  }

  /**
   * Plaintext to {@code host:port}, naming {@code authority} (e.g. {@code task-service}) as the service:
   * this is how an app calls through its sidecar at 127.0.0.1:15001, which routes by authority.
   */
  public static TaskClient connect(String target, String authority, Duration deadline) {
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target).usePlaintext();
    if (authority != null) {
      builder.overrideAuthority(authority);
    }
    return new TaskClient(builder.build(), true, deadline);
  }

  public TaskResponse create(CreateTaskRequest request) {
    return blocking().createTask(request);
  }

  /** A task with the given fields; empty priority means "medium", and it starts as "todo" with no project. */
  public TaskResponse create(String title, String description, String priority, int userId) {
    return create(CreateTaskRequest.newBuilder()
        .setTitle(title).setDescription(description).setPriority(priority).setUserId(userId).build());
  }

  public TaskResponse get(int id) {
    return blocking().getTask(GetTaskRequest.newBuilder().setId(id).build());
  }

  /** Changes only the fields set in {@code request} besides its id. */
  public TaskResponse update(UpdateTaskRequest request) {
    return blocking().updateTask(request);
  }

  public DeleteResponse delete(int id) {
    return blocking().deleteTask(DeleteTaskRequest.newBuilder().setId(id).build());
  }

  public List<TaskResponse> list(ListTasksRequest request) {
    List<TaskResponse> tasks = new ArrayList<>();
    blocking().listTasks(request).forEachRemaining(tasks::add);
    return tasks;
  }

  /**
   * Streams matching task changes to {@code onEvent} until cancelled or ended by the server; {@code onEnd}
   * receives the final status (OK only if the server completed the stream).
   */
  public Subscription subscribe(TaskSubscriptionRequest request, Consumer<TaskUpdateEvent> onEvent,
      Consumer<Status> onEnd) {
    Subscription subscription = new Subscription();
    TaskServiceGrpc.newStub(channel).streamTaskUpdates(request, new ClientResponseObserver<TaskSubscriptionRequest, TaskUpdateEvent>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<TaskSubscriptionRequest> call) {
        subscription.call = call;
      }

      @Override
      public void onNext(TaskUpdateEvent event) {
        onEvent.accept(event);
      }

      @Override
      public void onError(Throwable error) {
        onEnd.accept(Status.fromThrowable(error));
      }

      @Override
      public void onCompleted() {
        onEnd.accept(Status.OK);
      }
    });
    return subscription;
  }

  /** A live StreamTaskUpdates call. */
  public static final class Subscription {
    private volatile ClientCallStreamObserver<?> call;

    public void cancel() {
      call.cancel("cancelled by the client", null);
    }
  }

  private TaskServiceGrpc.TaskServiceBlockingStub blocking() {
    return TaskServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    if (ownsChannel) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
