package io.taskmesh.sidecar.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * {@code taskmesh_requests_total} and {@code taskmesh_request_duration_seconds} with {@code direction="gateway"}
 * for HTTP/JSON requests ({@code code} is the HTTP status), and {@code taskmesh_rate_limited_total}. The tags
 * are the same as the stream filters' so both land in one Prometheus family.
 */
final class GatewayMetrics {
  private final MeterRegistry registry;

  GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * @param service the routed service, or {@code none}
   * @param method the gRPC method path, or the HTTP method and path when no RPC matched
   */
  void request(String service, String method, int httpStatus, long durationNanos) {
    Counter.builder("taskmesh.requests")
        .tag("direction", "gateway")
        .tag("service", service)
        .tag("method", method)
        .tag("code", Integer.toString(httpStatus))
        .register(registry)
        .increment();
    Timer.builder("taskmesh.request.duration")
        .tag("direction", "gateway")
        .tag("service", service)
        .tag("method", method)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry)
        .record(Duration.ofNanos(durationNanos));
  }

  void rateLimited(String service) {
    Counter.builder("taskmesh.rate.limited").tag("service", service).register(registry).increment();
  }
}
