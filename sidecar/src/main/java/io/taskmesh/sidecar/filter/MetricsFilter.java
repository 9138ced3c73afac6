package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.taskmesh.sidecar.route.MethodCatalog;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code taskmesh_requests_total} and {@code taskmesh_request_duration_seconds} of docs/CONTRACT.md, with a bounded
 * {@code method} label: a method the catalog knows the service does not have is {@code unknown}, and past
 * {@value #MAX_METHOD_LABELS} other method labels per direction and service the rest are {@code other} (methods
 * the catalog knows the service has are always themselves: the proto bounds them). Meters are made once per
 * label set and kept, not looked up through the registry on every request.
 */
public final class MetricsFilter implements StreamFilter {
  public static final int MAX_METHOD_LABELS = 64;
  static final String UNKNOWN_METHOD = "unknown";
  static final String OTHER_METHOD = "other";

  private final MeterRegistry registry;
  private final MethodCatalog methods;
  private final Map<String, Set<String>> methodLabels = new ConcurrentHashMap<>();
  private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();
  private final Map<TimerKey, Timer> timers = new ConcurrentHashMap<>();

  private record CounterKey(String direction, String service, String method, String code) {}

  private record TimerKey(String direction, String service, String method) {}

  /** @param methods what the chain knows of its upstream's methods ({@link MethodCatalog#NONE}: nothing) */
  public MetricsFilter(MeterRegistry registry, MethodCatalog methods) {
    this.registry = registry;
    this.methods = methods;
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    String method = methodLabel(request);
    counters.computeIfAbsent(new CounterKey(request.direction(), request.service(), method, outcome.code()),
        key -> Counter.builder("taskmesh.requests")
            .tag("direction", key.direction())
            .tag("service", key.service())
            .tag("method", key.method())
            .tag("code", key.code())
            .register(registry))
        .increment();
    timers.computeIfAbsent(new TimerKey(request.direction(), request.service(), method),
        key -> Timer.builder("taskmesh.request.duration")
            .tag("direction", key.direction())
            .tag("service", key.service())
            .tag("method", key.method())
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry))
        .record(Duration.ofNanos(outcome.durationNanos()));
  }

  private String methodLabel(RequestInfo request) {
    String service = request.service();
    String method = request.method();
    if (methods.isKnownMethod(service, method)) {
      return method;
    }
    if (methods.isUnknownMethod(service, method)) {
      return UNKNOWN_METHOD;
    }
    Set<String> seen = methodLabels.computeIfAbsent(request.direction() + " " + service,
        key -> ConcurrentHashMap.newKeySet());
    if (seen.contains(method)) {
      return method;
    }
    synchronized (seen) {
      if (seen.size() < MAX_METHOD_LABELS) {
        seen.add(method);
        return method;
      }
    }
    return OTHER_METHOD;
  }
}
