package io.taskmesh.sidecar.filter;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.sidecar.codec.ProxyError;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The pod's inbound bulkhead ({@code inbound.maxConcurrentRequests}): a request that would exceed the
 * limit is answered RESOURCE_EXHAUSTED by this hop at once (no queueing) and counted in
 * {@code taskmesh_concurrency_limited_total{service}}. A stream holds its permit for as long as it is open,
 * so watches count too; {@code taskmesh_inbound_requests_active} shows how many hold one.
 *
 * <p>The limit is the one the request started with ({@link RequestInfo#policy()}). A reloaded limit gets a new bulkhead (resilience4j's
 * {@code changeConfig} blocks until permits in use come back when the limit shrinks: not on an event loop)
 * that starts with the requests in flight counted against it, up to its limit, so the new limit covers them
 * too: lowered below the in-flight count, no new request is admitted until enough of them have ended.
 */
public final class BulkheadFilter implements StreamFilter {
  private final MeterRegistry registry;
  private final Map<String, Counter> refused = new ConcurrentHashMap<>();
  private final AtomicInteger active = new AtomicInteger();
  /** Admitting and releasing share it, swapping generations takes it alone: every permit is counted once. */
  private final ReadWriteLock generations = new ReentrantReadWriteLock();
  private volatile Generation current;

  /**
   * A bulkhead for one limit. It starts holding {@code carried} permits for requests admitted before it
   * (by an earlier generation), and gives one back as each of those ends once fewer than {@code carried}
   * of them remain.
   */
  private static final class Generation {
    final int limit;
    final Bulkhead bulkhead;
    final int carried;
    final AtomicInteger earlierInFlight;
    final AtomicInteger carriedLeft;

    Generation(int limit, int inFlight) {
      this.limit = limit;
      this.bulkhead = Bulkhead.of("inbound", BulkheadConfig.custom()
          .maxConcurrentCalls(limit).maxWaitDuration(Duration.ZERO).build());
      int held = 0;
      while (held < Math.min(inFlight, limit) && bulkhead.tryAcquirePermission()) {
        held++;
      }
      this.carried = held;
      this.earlierInFlight = new AtomicInteger(inFlight);
      this.carriedLeft = new AtomicInteger(held);
    }

    /** A request admitted by an earlier generation ended. */
    void earlierEnded() {
      int remaining = earlierInFlight.decrementAndGet();
      if (remaining < carried && carriedLeft.getAndUpdate(left -> left > 0 ? left - 1 : 0) > 0) {
        bulkhead.onComplete();
      }
    }
  }

  public BulkheadFilter(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("taskmesh.inbound.requests.active", active, AtomicInteger::get)
        .description("inbound requests holding a permit of inbound.maxConcurrentRequests").register(registry);
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    useLimit(request.policy().maxConcurrentRequests());
    Generation held;
    generations.readLock().lock();
    try {
      held = current;
      if (held.bulkhead.tryAcquirePermission()) {
        active.incrementAndGet();
        request.attach(Permit.class, new Permit(held));
        return Optional.empty();
      }
    } finally {
      generations.readLock().unlock();
    }
    refused.computeIfAbsent(request.service(), service ->
        Counter.builder("taskmesh.concurrency.limited").tag("service", service).register(registry)).increment();
    return Optional.of(request.error(ProxyError.RESOURCE_EXHAUSTED, "max_concurrent_requests",
        "too many concurrent requests: the limit is " + held.limit + " (inbound.maxConcurrentRequests)"));
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    Permit permit = request.attachment(Permit.class);
    if (permit != null) {
      permit.release();
    }
  }

  private void useLimit(int max) {
    Generation held = current;
    if (held != null && held.limit == max) {
      return;
    }
    generations.writeLock().lock();
    try {
      if (current == null || current.limit != max) {
        current = new Generation(max, active.get());
      }
    } finally {
      generations.writeLock().unlock();
    }
  }

  /** One admitted request's permit; giving it back twice would let one request too many in. */
  private final class Permit {
    private final Generation admittedBy;
    private final AtomicBoolean released = new AtomicBoolean();

    Permit(Generation admittedBy) {
      this.admittedBy = admittedBy;
    }

    void release() {
      if (!released.compareAndSet(false, true)) {
        return;
      }
      generations.readLock().lock();
      try {
        active.decrementAndGet();
        Generation now = current;
        if (now == admittedBy) {
          admittedBy.bulkhead.onComplete();
        } else {
          now.earlierEnded();
        }
      } finally {
        generations.readLock().unlock();
      }
    }
  }
}
