package io.taskmesh.taskservice;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.DeleteTaskRequest;
import io.taskmesh.taskservice.api.DeleteTaskResponse;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.StreamTaskUpdatesRequest;
import io.taskmesh.taskservice.api.Task;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.events.UpdateBroker;
import io.taskmesh.taskservice.store.StoreException;
import io.taskmesh.taskservice.store.TaskPatch;
import io.taskmesh.taskservice.store.TaskStore;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The TaskService RPCs: validate, call the store, answer. Bad input is INVALID_ARGUMENT naming the field. */
final class TaskGrpcService extends TaskServiceGrpc.TaskServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(TaskGrpcService.class);

  private final TaskStore store;
  private final UpdateBroker broker;

  TaskGrpcService(TaskStore store, UpdateBroker broker) {
    this.store = store;
    this.broker = broker;
  }

  @Override
  public void createTask(CreateTaskRequest request, StreamObserver<TaskResponse> response) {
    answer(response, () -> {
      String title = TaskRules.title(request.getTitle());
      String description = TaskRules.description(request.getDescription());
      String priority = request.getPriority().isEmpty()
          ? TaskRules.DEFAULT_PRIORITY : TaskRules.priority(request.getPriority());
      String userId = TaskRules.userId(request.getUserId());
      return respond(store.create(title, description, priority, userId));
    });
  }

  @Override
  public void getTask(GetTaskRequest request, StreamObserver<TaskResponse> response) {
    answer(response, () -> {
      String id = TaskRules.id(request.getId());
      return respond(store.get(id).orElseThrow(() -> notFound(id)));
    });
  }

  @Override
  public void updateTask(UpdateTaskRequest request, StreamObserver<TaskResponse> response) {
    answer(response, () -> {
      String id = TaskRules.id(request.getId());
      TaskPatch patch = new TaskPatch(
          request.hasTitle() ? TaskRules.title(request.getTitle()) : null,
          request.hasDescription() ? TaskRules.description(request.getDescription()) : null,
          request.hasStatus() ? TaskRules.status(request.getStatus()) : null,
          request.hasPriority() ? TaskRules.priority(request.getPriority()) : null);
      return respond(store.update(id, patch).orElseThrow(() -> notFound(id)));
    });
  }

  @Override
  public void deleteTask(DeleteTaskRequest request, StreamObserver<DeleteTaskResponse> response) {
    answer(response, () -> {
      String id = TaskRules.id(request.getId());
      store.delete(id).orElseThrow(() -> notFound(id));
      return DeleteTaskResponse.newBuilder().setSuccess(true).setMessage("task " + id + " deleted").build();
    });
  }

  @Override
  public void listTasks(ListTasksRequest request, StreamObserver<TaskResponse> response) {
    List<Task> tasks;
    try {
      String userId = request.getUserId().isEmpty() ? null : request.getUserId();
      String status = request.getStatus().isEmpty() ? null : TaskRules.status(request.getStatus());
      tasks = store.list(userId, status, TaskRules.limit(request.getLimit()), TaskRules.offset(request.getOffset()));
    } catch (RuntimeException e) {
      response.onError(toStatus(e));
      return;
    }
    streamRespectingFlowControl((ServerCallStreamObserver<TaskResponse>) response, tasks.iterator());
  }

  @Override
  public void streamTaskUpdates(StreamTaskUpdatesRequest request, StreamObserver<TaskUpdateEvent> response) {
    broker.subscribe(request, (ServerCallStreamObserver<TaskUpdateEvent>) response);
  }

  /** Writes the next task only while the transport can take it, so a slow reader holds back the writer. */
  private static void streamRespectingFlowControl(ServerCallStreamObserver<TaskResponse> call, Iterator<Task> tasks) {
    Runnable drain = new Runnable() {
      private boolean completed;

      @Override
      public synchronized void run() {
        while (!completed && call.isReady() && tasks.hasNext()) {
          call.onNext(respond(tasks.next()));
        }
        if (!completed && !tasks.hasNext() && !call.isCancelled()) {
          completed = true;
          call.onCompleted();
        }
      }
    };
    call.setOnReadyHandler(drain);
    drain.run();
  }

  private static TaskResponse respond(Task task) {
    return TaskResponse.newBuilder().setTask(task).build();
  }

  private static StatusRuntimeException notFound(String id) {
    return Status.NOT_FOUND.withDescription("task " + id + " not found").asRuntimeException();
  }

  private interface Answer<T> {
    T get();
  }

  private static <T> void answer(StreamObserver<T> response, Answer<T> answer) {
    T value;
    try {
      value = answer.get();
    } catch (RuntimeException e) {
      response.onError(toStatus(e));
      return;
    }
    response.onNext(value);
    response.onCompleted();
  }

  private static StatusRuntimeException toStatus(RuntimeException e) {
    if (e instanceof StatusRuntimeException status) {
      return status;
    }
    if (e instanceof StoreException) {
      log.warn("event=store_unavailable error=\"{}\"", e.getMessage());
      return Status.UNAVAILABLE.withDescription("task store unavailable: " + e.getMessage()).asRuntimeException();
    }
    log.error("event=unexpected_error", e);
    return Status.INTERNAL.withDescription("unexpected error: " + e).asRuntimeException();
  }
}
