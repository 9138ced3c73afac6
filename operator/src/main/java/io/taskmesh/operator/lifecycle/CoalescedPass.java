package io.taskmesh.operator.lifecycle;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pass over a controller's whole state, on a thread of its own: changes that arrive while a pass is pending
 * make that one pass, never a queue of them, and a pass that fails is logged and left to the next change.
 */
public final class CoalescedPass implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoalescedPass.class);

  private final Runnable pass;
  private final String failureEvent;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final ExecutorService worker;

  /** @param failureEvent the {@code event=} a failed pass is logged with */
  public CoalescedPass(String threadName, String failureEvent, Runnable pass) {
    this.pass = pass;
    this.failureEvent = failureEvent;
    this.worker = Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, threadName);
      thread.setDaemon(true);
      return thread;
    });
  }

  public void schedule() {
    if (pending.compareAndSet(false, true)) {
      worker.execute(() -> {
        pending.set(false);
        try {
          pass.run();
        } catch (RuntimeException e) {
          log.error("event={}", failureEvent, e);
        }
      });
    }
  }

  /** An informer handler that schedules a pass on every add, update and delete. */
  public <T> ResourceEventHandler<T> onEveryChange() {
    return new EveryChange<>(this::schedule);
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
