package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code taskmesh_requests_total} and {@code taskmesh_request_duration_seconds} of DESIGN.md.
 *
 * <p>Meters are looked up once per tag combination and kept: building a meter and registering it
 * (tag sorting, id hashing, the registry's map) on every request cost more than the request's own
 * forwarding. Method names come from callers, so the cache is bounded; past the bound the registry is
 * asked directly, which is correct, only slower.
 */
public final class MetricsFilter implements StreamFilter {
  /** Distinct (direction, service, method, code) kept; far above any real service's method count. */
  static final int MAX_CACHED = 4096;

  private final MeterRegistry registry;
  private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();
  private final Map<TimerKey, Timer> timers = new ConcurrentHashMap<>();

  public MetricsFilter(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    counter(new CounterKey(request.direction(), request.service(), request.method(), outcome.code())).increment();
    timer(new TimerKey(request.direction(), request.service(), request.method()))
        .record(outcome.durationNanos(), TimeUnit.NANOSECONDS);
  }

  private Counter counter(CounterKey key) {
    Counter cached = counters.get(key);
    if (cached != null) {
      return cached;
    }
    Counter counter = Counter.builder("taskmesh.requests")
        .tag("direction", key.direction())
        .tag("service", key.service())
        .tag("method", key.method())
        .tag("code", key.code())
        .register(registry);
    if (counters.size() < MAX_CACHED) {
      counters.putIfAbsent(key, counter);
    }
    return counter;
  }

  private Timer timer(TimerKey key) {
    Timer cached = timers.get(key);
    if (cached != null) {
      return cached;
    }
    Timer timer = Timer.builder("taskmesh.request.duration")
        .tag("direction", key.direction())
        .tag("service", key.service())
        .tag("method", key.method())
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry);
    if (timers.size() < MAX_CACHED) {
      timers.putIfAbsent(key, timer);
    }
    return timer;
  }

  private record CounterKey(String direction, String service, String method, String code) {}

  private record TimerKey(String direction, String service, String method) {}
}
