package io.taskmesh.taskservice.events;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One StreamTaskUpdates call: the events it asked for wait in a bounded buffer and are written only while
 * the transport can take them ({@code isReady}); a full buffer ends the call with RESOURCE_EXHAUSTED.
 */
final class Subscriber {
  private final int userId;
  private final Set<Integer> taskIds;
  private final ServerCallStreamObserver<TaskUpdateEvent> call;
  private final int capacity;
  private final Consumer<Subscriber> onEnd;
  private final ArrayDeque<TaskUpdateEvent> buffer = new ArrayDeque<>();
  private boolean ended;

  Subscriber(TaskSubscriptionRequest request, ServerCallStreamObserver<TaskUpdateEvent> call, int capacity,
      Consumer<Subscriber> onEnd) {
    this.userId = request.getUserId();
    this.taskIds = Set.copyOf(request.getTaskIdsList());
    this.call = call;
    this.capacity = capacity;
    this.onEnd = onEnd;
  }

  /** A task of the user, or one of the named tasks. */
  boolean wants(TaskResponse task) {
    return (userId != 0 && userId == task.getUserId()) || taskIds.contains(task.getId());
  }

  synchronized void offer(TaskUpdateEvent event) {
    if (ended || !wants(event.getTask())) {
      return;
    }
    if (buffer.size() >= capacity) {
      end(Status.RESOURCE_EXHAUSTED.withDescription("subscriber too slow: " + capacity
          + " task updates waiting; resubscribe to continue"));
      return;
    }
    buffer.add(event);
    drain();
  }

  synchronized void drain() {
    while (!ended && call.isReady() && !buffer.isEmpty()) {
      call.onNext(buffer.poll());
    }
  }

  synchronized void end(Status status) {
    if (ended) {
      return;
    }
    ended = true;
    buffer.clear();
    onEnd.accept(this);
    call.onError(status.asRuntimeException());
  }
}
