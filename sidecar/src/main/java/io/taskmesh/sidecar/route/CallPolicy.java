package io.taskmesh.sidecar.route;

import io.taskmesh.config.AccessLogConfig;
import io.taskmesh.config.CircuitBreakerPolicy;
import io.taskmesh.config.RateLimitConfig;
import io.taskmesh.config.RetryPolicy;
import java.time.Duration;

/**
 * Everything one request's path reads from the config, taken from one accepted config when the request
 * starts: its tries, filters and timers all see the same policy, even when a reload lands meanwhile.
 *
 * @param timeout the route timeout of a unary call whose caller set no deadline (zero: none)
 * @param circuitBreaker the upstream's breaker policy; {@code null} on the inbound side, which has none
 * @param rateLimit the pod's inbound token bucket; {@code null} when there is none (always on the outbound side)
 * @param maxConcurrentRequests the pod's inbound bulkhead for unary calls; 0 on the outbound side, which has none
 * @param maxConcurrentStreamingRequests the inbound bulkhead for streaming calls (watches); 0 on the outbound side
 * @param routes the service's route rules; {@link RouteRules#NONE} when it has none (always on the inbound side)
 */
public record CallPolicy(Duration timeout, RetryPolicy retries, CircuitBreakerPolicy circuitBreaker,
    RateLimitConfig rateLimit, int maxConcurrentRequests, int maxConcurrentStreamingRequests,
    AccessLogConfig accessLog, RouteRules routes) {
  /** One try only: the inbound side hands requests to the local app, the caller's side retries. */
  public static final RetryPolicy NO_RETRIES = new RetryPolicy(1, Duration.ZERO, java.util.List.of(), 0);
}
