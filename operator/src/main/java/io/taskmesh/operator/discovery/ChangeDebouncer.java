package io.taskmesh.operator.discovery;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands each changed service to {@code push} on its own thread (never the informer's or a gRPC thread), at most once
 * per {@code delay}: a change after a quiet spell is pushed at once, and the changes that follow within
 * {@code delay} of a push are gathered into one push when it runs out. A burst of EndpointSlice events thus costs
 * two pushes, an isolated change no wait, and a steady stream of changes is pushed every {@code delay}, never held
 * back.
 */
final class ChangeDebouncer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChangeDebouncer.class);
  private final Duration delay;
  private final Consumer<ServiceKey> push;
  private final Set<ServiceKey> dirty = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile long lastFlushNanos = System.nanoTime() - Long.MAX_VALUE / 2;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-discovery-push");
    thread.setDaemon(true);
    return thread;
  });

  ChangeDebouncer(Duration delay, Consumer<ServiceKey> push) {
    this.delay = delay;
    this.push = push;
  }

  void changed(ServiceKey service) {
    dirty.add(service);
    if (scheduled.compareAndSet(false, true)) {
      long wait = Math.max(0, lastFlushNanos + delay.toNanos() - System.nanoTime());
      scheduler.schedule(this::flush, wait, TimeUnit.NANOSECONDS);
    }
  }

  private void flush() {
    lastFlushNanos = System.nanoTime();
    scheduled.set(false);
    for (ServiceKey service : Set.copyOf(dirty)) {
      dirty.remove(service);
      try {
        push.accept(service);
      } catch (RuntimeException e) {
        log.warn("event=discovery_push_failed service={} error=\"{}\"", service, e.toString());
      }
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
