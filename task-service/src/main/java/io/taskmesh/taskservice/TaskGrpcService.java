package io.taskmesh.taskservice;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
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
import io.taskmesh.taskservice.events.UpdateBroker;
import io.taskmesh.taskservice.store.NewTask;
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
      NewTask task = new NewTask(
          TaskRules.title(request.getTitle()),
          TaskRules.description(request.getDescription()),
          request.getPriority().isEmpty() ? TaskRules.DEFAULT_PRIORITY : TaskRules.priority(request.getPriority()),
          request.getStatus().isEmpty() ? TaskRules.DEFAULT_STATUS : TaskRules.status(request.getStatus()),
          TaskRules.required("user_id", request.getUserId()),
          TaskRules.projectId(request.getProjectId()));
      return store.create(task);
    });
  }

  @Override
  public void getTask(GetTaskRequest request, StreamObserver<TaskResponse> response) {
    answer(response, () -> {
      int id = TaskRules.required("id", request.getId());
      return store.get(id).orElseThrow(() -> notFound(id));
    });
  }

  @Override
  public void updateTask(UpdateTaskRequest request, StreamObserver<TaskResponse> response) {
    answer(response, () -> {
      int id = TaskRules.required("id", request.getId());
      TaskPatch patch = new TaskPatch(
          request.hasTitle() ? TaskRules.title(request.getTitle()) : null,
          request.hasDescription() ? TaskRules.description(request.getDescription()) : null,
          request.hasPriority() ? TaskRules.priority(request.getPriority()) : null,
          request.hasStatus() ? TaskRules.status(request.getStatus()) : null);
      return store.update(id, patch).orElseThrow(() -> notFound(id));
    });
  }

  @Override
  public void deleteTask(DeleteTaskRequest request, StreamObserver<DeleteResponse> response) {
    answer(response, () -> {
      int id = TaskRules.required("id", request.getId());
      store.delete(id).orElseThrow(() -> notFound(id));
      return DeleteResponse.newBuilder().setSuccess(true).setMessage("task " + id + " deleted").build();
    });
  }

  @Override
  public void listTasks(ListTasksRequest request, StreamObserver<TaskResponse> response) {
    List<TaskResponse> tasks;
    try {
      int userId = TaskRules.required("user_id", request.getUserId());
      String status = request.getStatus().isEmpty() ? null : TaskRules.status(request.getStatus());
      tasks = store.list(userId, status, TaskRules.limit(request.getLimit()), TaskRules.offset(request.getOffset()));
    } catch (RuntimeException e) {
      response.onError(toStatus(e));
      return;
    }
    streamRespectingFlowControl((ServerCallStreamObserver<TaskResponse>) response, tasks.iterator());
  }

  @Override
  public void streamTaskUpdates(TaskSubscriptionRequest request, StreamObserver<TaskUpdateEvent> response) {
    try {
      TaskRules.subscription(request.getUserId(), request.getTaskIdsList());
    } catch (RuntimeException e) {
      response.onError(toStatus(e));
      return;
    }
    broker.subscribe(request, (ServerCallStreamObserver<TaskUpdateEvent>) response);
  }

  /** Writes the next task only while the transport can take it, so a slow reader holds back the writer. */
  private static void streamRespectingFlowControl(ServerCallStreamObserver<TaskResponse> call,
      Iterator<TaskResponse> tasks) {
    Runnable drain = new Runnable() {
      private boolean completed;

      @Override
      public synchronized void run() {
        while (!completed && call.isReady() && tasks.hasNext()) {
          call.onNext(tasks.next());
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

  private static StatusRuntimeException notFound(int id) {
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

  /** The status a caller can act on; the store's own error text stays in this service's log. */
  private static StatusRuntimeException toStatus(RuntimeException e) {
    if (e instanceof StatusRuntimeException status) {
      return status;
    }
    if (e instanceof StoreException store && store.mayHaveApplied()) {
      log.error("event=store_commit_failed error=\"{}\"", e.getMessage());
      return Status.UNKNOWN.withDescription("task store failed while committing: the change may have been applied;"
          + " read the task before writing again").asRuntimeException();
    }
    if (e instanceof StoreException) {
      log.warn("event=store_unavailable error=\"{}\"", e.getMessage());
      return Status.UNAVAILABLE.withDescription("task store unavailable; nothing was written").asRuntimeException();
    }
    log.error("event=unexpected_error", e);
    return Status.INTERNAL.withDescription("internal error in the task service").asRuntimeException();
  }
}
