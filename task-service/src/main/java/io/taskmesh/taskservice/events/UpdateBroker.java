package io.taskmesh.taskservice.events;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.store.ChangeListener;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fans committed task changes out to the live StreamTaskUpdates calls of this replica. Each subscriber has
 * its own bounded buffer, so one slow reader is ended instead of slowing the others or growing memory.
 * When the store says changes may have been missed, every subscriber is ended with UNAVAILABLE saying so,
 * and new subscriptions are refused until the changes flow again: a stream never silently skips a change.
 */
public final class UpdateBroker implements ChangeListener {
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  private final int bufferPerSubscriber;
  private boolean interrupted;

  public UpdateBroker(int bufferPerSubscriber) {
    this.bufferPerSubscriber = bufferPerSubscriber;
  }

  /** Called with every change, in commit order, by one thread at a time. */
  @Override
  public void changed(TaskUpdateEvent event) {
    for (Subscriber subscriber : subscribers) {
      subscriber.offer(event);
    }
  }

  @Override
  public synchronized void interrupted(String reason) {
    interrupted = true;
    endAll(Status.UNAVAILABLE.withDescription(
        reason + "; task updates may have been missed: resubscribe and re-read the tasks you follow"));
  }

  @Override
  public synchronized void resumed() {
    interrupted = false;
  }

  public synchronized void subscribe(TaskSubscriptionRequest request, ServerCallStreamObserver<TaskUpdateEvent> call) {
    if (interrupted) {
      call.onError(Status.UNAVAILABLE
          .withDescription("task updates are interrupted while the store's change feed reconnects; subscribe again")
          .asRuntimeException());
      return;
    }
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
