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
import java.util.function.IntSupplier;

/**
 * The pod's inbound bulkhead ({@code inbound.maxConcurrentRequests}): a request that would exceed the
 * limit is answered RESOURCE_EXHAUSTED by this hop at once (no queueing) and counted in
 * {@code taskmesh_concurrency_limited_total{service}}. A stream holds its permit for as long as it is open,
 * so watches count too; {@code taskmesh_inbound_requests_active} shows how many hold one. The limit is read from the config in force, so a reload changes it.
 */
public final class BulkheadFilter implements StreamFilter {
  private final String hop;
  private final IntSupplier limit;
  private final MeterRegistry registry;
  private final Bulkhead bulkhead;
  private final Map<String, Counter> refused = new ConcurrentHashMap<>();

  public BulkheadFilter(String hop, IntSupplier limit, MeterRegistry registry) {
    this.hop = hop;
    this.limit = limit;
    this.registry = registry;
    this.bulkhead = Bulkhead.of("inbound", config(limit.getAsInt()));
    Gauge.builder("taskmesh.inbound.requests.active", bulkhead,
            b -> b.getBulkheadConfig().getMaxConcurrentCalls() - b.getMetrics().getAvailableConcurrentCalls())
        .description("inbound requests holding a permit of inbound.maxConcurrentRequests").register(registry);
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    int max = currentLimit();
    if (!bulkhead.tryAcquirePermission()) {
      refused.computeIfAbsent(request.service(), service ->
          Counter.builder("taskmesh.concurrency.limited").tag("service", service).register(registry)).increment();
      return Optional.of(new ProxyError(hop, "service '" + request.service() + "'", ProxyError.RESOURCE_EXHAUSTED,
          "max_concurrent_requests", "too many concurrent requests: the limit is " + max
              + " (inbound.maxConcurrentRequests)"));
    }
    request.attach(Permit.class, new Permit(bulkhead));
    return Optional.empty();
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    Permit permit = request.attachment(Permit.class);
    if (permit != null) {
      permit.release();
    }
  }

  /** Follows a reloaded limit; resilience4j resizes the semaphore without touching permits in use. */
  private int currentLimit() {
    int max = limit.getAsInt();
    if (max != bulkhead.getBulkheadConfig().getMaxConcurrentCalls()) {
      synchronized (this) {
        if (max != bulkhead.getBulkheadConfig().getMaxConcurrentCalls()) {
          bulkhead.changeConfig(config(max));
        }
      }
    }
    return max;
  }

  private static BulkheadConfig config(int maxConcurrent) {
    return BulkheadConfig.custom().maxConcurrentCalls(maxConcurrent).maxWaitDuration(Duration.ZERO).build();
  }

  /** One admitted request's permit; giving it back twice would let one request too many in. */
  private static final class Permit {
    private final Bulkhead bulkhead;
    private final AtomicBoolean released = new AtomicBoolean();

    Permit(Bulkhead bulkhead) {
      this.bulkhead = bulkhead;
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        bulkhead.onComplete();
      }
    }
  }
}
