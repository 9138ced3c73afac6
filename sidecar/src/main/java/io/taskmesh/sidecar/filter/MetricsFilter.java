package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** {@code taskmesh_requests_total} and {@code taskmesh_request_duration_seconds} of DESIGN.md. */
public final class MetricsFilter implements StreamFilter {
  private final MeterRegistry registry;

  public MetricsFilter(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    Counter.builder("taskmesh.requests")
        .tag("direction", request.direction())
        .tag("service", request.service())
        .tag("method", request.method())
        .tag("code", outcome.code())
        .register(registry)
        .increment();
    Timer.builder("taskmesh.request.duration")
        .tag("direction", request.direction())
        .tag("service", request.service())
        .tag("method", request.method())
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry)
        .record(Duration.ofNanos(outcome.durationNanos()));
  }
}
