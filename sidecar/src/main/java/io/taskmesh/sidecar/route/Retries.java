package io.taskmesh.sidecar.route;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.config.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * When a failed try may be tried again: the service's retry policy (attempts, statuses), a retry budget
 * per service (so retries cannot multiply an outage) and a jittered exponential backoff. Every retry
 * taken is counted in {@code taskmesh_retries_total{service}}, every one the budget refused in
 * {@code taskmesh_retries_refused_total{service}}.
 */
public final class Retries {
  /** Never retries: the inbound side hands requests to the local app only. */
  public static final Retries NONE = new Retries(service -> new RetryPolicy(1, Duration.ZERO, List.of(), 0), null);

  /** Retries any quiet service may make per window whatever its request count, as Linkerd's minRetriesPerSecond. */
  static final int MIN_RETRIES_PER_WINDOW = 10;
  static final Duration BUDGET_WINDOW = Duration.ofSeconds(10);
  private static final long BASE_BACKOFF_NANOS = Duration.ofMillis(25).toNanos();
  private static final long MAX_BACKOFF_NANOS = Duration.ofMillis(250).toNanos();

  private final Function<String, RetryPolicy> policies;
  private final MeterRegistry registry;
  private final Map<String, RetryBudget> budgets = new ConcurrentHashMap<>();

  public Retries(Function<String, RetryPolicy> policies, MeterRegistry registry) {
    this.policies = policies;
    this.registry = registry;
  }

  public RetryPolicy policy(String service) {
    return policies.apply(service);
  }

  /** Counts an original request towards the service's budget. */
  public void recordRequest(String service) {
    if (registry != null) {
      budget(service).recordRequest();
    }
  }

  /** Takes a retry from the service's budget; false (and counted as refused) when it is spent. */
  public boolean tryAcquire(String service) {
    if (registry == null) {
      return false;
    }
    boolean granted = budget(service).tryAcquireRetry();
    Counter.builder(granted ? "taskmesh.retries" : "taskmesh.retries.refused").tag("service", service)
        .register(registry).increment();
    return granted;
  }

  /** Full jitter over 25 ms doubling per retry, at most 250 ms. */
  public static long backoffNanos(int retry) {
    long ceiling = Math.min(MAX_BACKOFF_NANOS, BASE_BACKOFF_NANOS << Math.min(10, Math.max(0, retry - 1)));
    return ThreadLocalRandom.current().nextLong(ceiling + 1);
  }

  /** The budget in force for {@code service}, for /clusters and tests. */
  public RetryBudget budget(String service) {
    return budgets.computeIfAbsent(service, name -> new RetryBudget(
        policies.apply(name).budgetPercent(), MIN_RETRIES_PER_WINDOW, BUDGET_WINDOW, System::nanoTime));
  }
}
