package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.config.RateLimitConfig;
import io.taskmesh.sidecar.codec.ProxyError;
import java.util.Optional;

/**
 * The pod's inbound token bucket: a request over the limit is answered RESOURCE_EXHAUSTED by this hop,
 * with a retry hint ({@code grpc-retry-pushback-ms}), and counted in {@code taskmesh_rate_limited_total}.
 */
public final class RateLimitFilter implements StreamFilter {
  private final String hop;
  private final RateLimitConfig limit;
  private final TokenBucket bucket;
  private final MeterRegistry registry;

  public RateLimitFilter(String hop, RateLimitConfig limit, MeterRegistry registry) {
    this.hop = hop;
    this.limit = limit;
    this.bucket = new TokenBucket(limit.requestsPerSecond(), limit.burst(), System::nanoTime);
    this.registry = registry;
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    long waitNanos = bucket.tryTake();
    if (waitNanos == 0) {
      return Optional.empty();
    }
    Counter.builder("taskmesh.rate.limited").tag("service", request.service()).register(registry).increment();
    long retryAfterMillis = Math.max(1, waitNanos / 1_000_000);
    return Optional.of(new ProxyError(hop, "service '" + request.service() + "'", ProxyError.RESOURCE_EXHAUSTED,
        "rate_limited", "rate limited: over " + limit.requestsPerSecond() + " requests/s (burst " + limit.burst()
            + "); retry in " + retryAfterMillis + " ms", retryAfterMillis));
  }
}
