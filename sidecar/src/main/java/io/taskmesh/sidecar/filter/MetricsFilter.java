package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.taskmesh.sidecar.route.MethodCatalog;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

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
  /** direction → service → the method labels given so far (at most {@value #MAX_METHOD_LABELS}). */
  private final Map<String, Map<String, Set<String>>> methodLabels = new ConcurrentHashMap<>();
  /** direction → service → method label → that label set's meters. */
  private final Map<String, Map<String, Map<String, MethodMeters>>> meters = new ConcurrentHashMap<>();

  /** @param methods what the chain knows of its upstream's methods ({@link MethodCatalog#NONE}: nothing) */
  public MetricsFilter(MeterRegistry registry, MethodCatalog methods) {
    this.registry = registry;
    this.methods = methods;
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    MethodMeters found = metersOf(request.direction(), request.service(), methodLabel(request));
    found.counter(outcome.code()).increment();
    found.duration.record(outcome.durationNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Found by plain string lookups on every request, made only on a miss: keys of records and capturing lambdas
   * would cost an allocation each, and a method-handle call each while the hot path is C1-compiled.
   */
  private MethodMeters metersOf(String direction, String service, String method) {
    Map<String, MethodMeters> byMethod = child(child(meters, direction), service);
    MethodMeters found = byMethod.get(method);
    if (found == null) {
      found = byMethod.computeIfAbsent(method, key -> new MethodMeters(direction, service, method));
    }
    return found;
  }

  private static <V> Map<String, V> child(Map<String, Map<String, V>> parent, String key) {
    Map<String, V> found = parent.get(key);
    return found != null ? found : parent.computeIfAbsent(key, absent -> new ConcurrentHashMap<>());
  }

  /** The duration timer of one direction, service and method label, and its request counters by code. */
  private final class MethodMeters {
    final String direction;
    final String service;
    final String method;
    final Timer duration;
    final Map<String, Counter> byCode = new ConcurrentHashMap<>();

    MethodMeters(String direction, String service, String method) {
      this.direction = direction;
      this.service = service;
      this.method = method;
      this.duration = Timer.builder("taskmesh.request.duration")
          .tag("direction", direction)
          .tag("service", service)
          .tag("method", method)
          .publishPercentileHistogram()
          .minimumExpectedValue(Duration.ofMillis(1))
          .maximumExpectedValue(Duration.ofSeconds(30))
          .register(registry);
    }

    Counter counter(String code) {
      Counter counter = byCode.get(code);
      if (counter == null) {
        counter = byCode.computeIfAbsent(code, key -> Counter.builder("taskmesh.requests")
            .tag("direction", direction)
            .tag("service", service)
            .tag("method", method)
            .tag("code", key)
            .register(registry));
      }
      return counter;
    }
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
    Map<String, Set<String>> byService = child(methodLabels, request.direction());
    Set<String> seen = byService.get(service);
    if (seen == null) {
      seen = byService.computeIfAbsent(service, key -> ConcurrentHashMap.newKeySet());
    }
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
