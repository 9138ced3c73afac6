package io.taskmesh.sidecar.route;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.config.RetryPolicy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The retry budgets of one side of the proxy, one per service (so retries cannot multiply an outage), and
 * the jittered exponential backoff between tries. Whether a failed try may go again at all is the request's
 * own policy ({@link CallPolicy#retries()}). Every retry taken is counted in
 * {@code taskmesh_retries_total{service}}, every one the budget refused in {@code taskmesh_retries_refused_total{service}}.
 */
public final class Retries {
  /** Never grants a retry: the inbound side hands requests to the local app only. */
  public static final Retries NONE = new Retries(null);

  /** Retries any quiet service may make per window whatever its request count, as Linkerd's minRetriesPerSecond. */
  static final int MIN_RETRIES_PER_WINDOW = 10;
  static final Duration BUDGET_WINDOW = Duration.ofSeconds(10);
  private static final long BASE_BACKOFF_NANOS = Duration.ofMillis(25).toNanos();
  private static final long MAX_BACKOFF_NANOS = Duration.ofMillis(250).toNanos();

  private final MeterRegistry registry;
  private final Map<String, RetryBudget> budgets = new ConcurrentHashMap<>();

  public Retries(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts an original request towards the service's budget. */
  public void recordRequest(String service, RetryPolicy policy) {
    if (registry != null) {
      budget(service, policy).recordRequest();
    }
  }

  /** Takes a retry from the service's budget; false (and counted as refused) when it is spent. */
  public boolean tryAcquire(String service, RetryPolicy policy) {
    if (registry == null) {
      return false;
    }
    boolean granted = budget(service, policy).tryAcquireRetry();
    Counter.builder(granted ? "taskmesh.retries" : "taskmesh.retries.refused").tag("service", service)
        .register(registry).increment();
    return granted;
  }

  /** Full jitter over 25 ms doubling per retry, at most 250 ms. */
  public static long backoffNanos(int retry) {
    long ceiling = Math.min(MAX_BACKOFF_NANOS, BASE_BACKOFF_NANOS << Math.min(10, Math.max(0, retry - 1)));
    return ThreadLocalRandom.current().nextLong(ceiling + 1);
  }

  /** The service's budget, sized by the policy of the request that first needed it. */
  private RetryBudget budget(String service, RetryPolicy policy) {
    RetryBudget budget = budgets.get(service);
    return budget != null ? budget : budgets.computeIfAbsent(service, name -> new RetryBudget(
        policy.budgetPercent(), MIN_RETRIES_PER_WINDOW, BUDGET_WINDOW, System::nanoTime));
  }
}
