package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.config.RateLimitConfig;
import io.taskmesh.sidecar.codec.ProxyError;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pod's inbound token bucket: a request over the limit is answered RESOURCE_EXHAUSTED by this hop,
 * with a retry hint ({@code grpc-retry-pushback-ms}), and counted in {@code taskmesh_rate_limited_total}.
 * The limit is the one the request started with ({@link RequestInfo#policy()}): a reload that changes it swaps in a new,
 * full bucket; one that removes it turns the filter off, one that adds it turns it on.
 */
public final class RateLimitFilter implements StreamFilter {
  private final MeterRegistry registry;
  private final Map<String, Counter> limited = new ConcurrentHashMap<>();
  private volatile LimitBucket current;

  /** A bucket and the limit it was made for. */
  private record LimitBucket(RateLimitConfig limit, TokenBucket bucket) {}

  public RateLimitFilter(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    RateLimitConfig limit = request.policy().rateLimit();
    if (limit == null) {
      return Optional.empty();
    }
    long waitNanos = bucketFor(limit).tryTake();
    if (waitNanos == 0) {
      return Optional.empty();
    }
    limited.computeIfAbsent(request.service(), service ->
        Counter.builder("taskmesh.rate.limited").tag("service", service).register(registry)).increment();
    long retryAfterMillis = Math.max(1, waitNanos / 1_000_000);
    return Optional.of(new ProxyError(request.hop(), "service '" + request.service() + "'", ProxyError.RESOURCE_EXHAUSTED,
        "rate_limited", "rate limited: over " + limit.requestsPerSecond() + " requests/s (burst " + limit.burst()
            + "); retry in " + retryAfterMillis + " ms", retryAfterMillis));
  }

  private TokenBucket bucketFor(RateLimitConfig limit) {
    LimitBucket held = current;
    if (held != null && held.limit().equals(limit)) {
      return held.bucket();
    }
    synchronized (this) {
      if (current == null || !current.limit().equals(limit)) {
        current = new LimitBucket(limit, new TokenBucket(limit.requestsPerSecond(), limit.burst(), System::nanoTime));
      }
      return current.bucket();
    }
  }
}
