package io.taskmesh.sidecar.filter;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.route.MethodCatalog;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The pod's inbound bulkheads: {@code inbound.maxConcurrentRequests} for unary calls (and calls of methods not
 * known to be streaming) and {@code inbound.maxConcurrentStreamingRequests} for streaming ones, which the app's
 * method catalog names. A request that would exceed its limit is answered RESOURCE_EXHAUSTED by this hop at once
 * (no queueing) and counted in {@code taskmesh_concurrency_limited_total{service}}. A stream holds its permit
 * for as long as it is open, so long-lived watches have a pool of their own and never take the permits unary
 * calls need; {@code taskmesh_inbound_requests_active} shows how many requests hold one, of either pool.
 *
 * <p>The limit is the one the request started with ({@link RequestInfo#policy()}). A reloaded limit gets a new bulkhead (resilience4j's
 * {@code changeConfig} blocks until permits in use come back when the limit shrinks: not on an event loop)
 * that starts with the requests in flight counted against it, up to its limit, so the new limit covers them
 * too: lowered below the in-flight count, no new request is admitted until enough of them have ended.
 */
public final class BulkheadFilter implements StreamFilter {
  private final MeterRegistry registry;
  private final MethodCatalog appMethods;
  private final Map<String, Counter> refused = new ConcurrentHashMap<>();
  private final AtomicInteger active = new AtomicInteger();
  private final Pool unary = new Pool("inbound.maxConcurrentRequests", "max_concurrent_requests");
  private final Pool streaming = new Pool("inbound.maxConcurrentStreamingRequests", "max_concurrent_streaming_requests");

  /** @param appMethods the local app's methods, which say which calls are streams */
  public BulkheadFilter(MeterRegistry registry, MethodCatalog appMethods) {
    this.registry = registry;
    this.appMethods = appMethods;
    Gauge.builder("taskmesh.inbound.requests.active", active, AtomicInteger::get)
        .description("inbound requests holding a permit of either inbound bulkhead").register(registry);
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    // not Optional.map: in C1-compiled code a lambda is a method-handle call each time
    Optional<MethodCatalog.MethodShape> shape = appMethods.shape(request.service(), request.method());
    boolean stream = shape.isPresent() && !shape.get().unary();
    Pool pool = stream ? streaming : unary;
    int limit = stream ? request.policy().maxConcurrentStreamingRequests() : request.policy().maxConcurrentRequests();
    Permit permit = pool.tryAdmit(limit);
    if (permit != null) {
      active.incrementAndGet();
      request.attach(Permit.class, permit);
      return Optional.empty();
    }
    refused.computeIfAbsent(request.service(), service ->
        Counter.builder("taskmesh.concurrency.limited").tag("service", service).register(registry)).increment();
    return Optional.of(request.error(ProxyError.RESOURCE_EXHAUSTED, pool.reason,
        "too many concurrent " + (stream ? "streaming " : "") + "requests: the limit is " + limit + " (" + pool.key + ")"));
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    Permit permit = request.attachment(Permit.class);
    if (permit != null && permit.release()) {
      active.decrementAndGet();
    }
  }

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

  /** One bulkhead across reloads of its limit. */
  private static final class Pool {
    final String key;
    final String reason;
    final AtomicInteger inFlight = new AtomicInteger();
    /** Admitting and releasing share it, swapping generations takes it alone: every permit is counted once. */
    final ReadWriteLock generations = new ReentrantReadWriteLock();
    volatile Generation current;

    Pool(String key, String reason) {
      this.key = key;
      this.reason = reason;
    }

    /** A permit, or null when the pool is full. */
    Permit tryAdmit(int limit) {
      useLimit(limit);
      generations.readLock().lock();
      try {
        Generation held = current;
        if (!held.bulkhead.tryAcquirePermission()) {
          return null;
        }
        inFlight.incrementAndGet();
        return new Permit(this, held);
      } finally {
        generations.readLock().unlock();
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
          current = new Generation(max, inFlight.get());
        }
      } finally {
        generations.writeLock().unlock();
      }
    }
  }

  /** One admitted request's permit; giving it back twice would let one request too many in. */
  private static final class Permit {
    private final Pool pool;
    private final Generation admittedBy;
    private final AtomicBoolean released = new AtomicBoolean();

    Permit(Pool pool, Generation admittedBy) {
      this.pool = pool;
      this.admittedBy = admittedBy;
    }

    /** @return false when it was given back already */
    boolean release() {
      if (!released.compareAndSet(false, true)) {
        return false;
      }
      pool.generations.readLock().lock();
      try {
        pool.inFlight.decrementAndGet();
        Generation now = pool.current;
        if (now == admittedBy) {
          admittedBy.bulkhead.onComplete();
        } else {
          now.earlierEnded();
        }
      } finally {
        pool.generations.readLock().unlock();
      }
      return true;
    }
  }
}
