package io.taskmesh.taskservice.events;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.taskmesh.taskservice.api.StreamTaskUpdatesRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Fans committed task changes out to the live StreamTaskUpdates calls of this replica. Each subscriber has
 * its own bounded buffer, so one slow reader is ended instead of slowing the others or growing memory.
 */
public final class UpdateBroker implements Consumer<TaskUpdateEvent> {
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  private final int bufferPerSubscriber;

  public UpdateBroker(int bufferPerSubscriber) {
    this.bufferPerSubscriber = bufferPerSubscriber;
  }

  /** Called with every change, in commit order, by one thread at a time. */
  @Override
  public void accept(TaskUpdateEvent event) {
    for (Subscriber subscriber : subscribers) {
      subscriber.offer(event);
    }
  }

  public void subscribe(StreamTaskUpdatesRequest request, ServerCallStreamObserver<TaskUpdateEvent> call) {
    Subscriber subscriber = new Subscriber(request, call, bufferPerSubscriber, subscribers::remove);
    subscribers.add(subscriber);
    call.setOnCancelHandler(() -> subscribers.remove(subscriber));
    call.setOnReadyHandler(subscriber::drain);
  }

  public int subscriberCount() {
    return subscribers.size();
  }

  /** Ends every subscription with {@code status}, e.g. when the server shuts down. */
  public void endAll(Status status) {
    for (Subscriber subscriber : subscribers) {
      subscriber.end(status);
    }
  }
}
