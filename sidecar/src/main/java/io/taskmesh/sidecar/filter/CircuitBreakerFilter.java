package io.taskmesh.sidecar.filter;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.config.CircuitBreakerPolicy;
import io.taskmesh.sidecar.codec.ProxyError;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One resilience4j circuit breaker per upstream service. Open, it fails calls fast with UNAVAILABLE
 * ("circuit open"); after {@code waitInOpen} it lets {@code permittedInHalfOpen} trial calls through and
 * closes again if they succeed. Failures are the statuses that say the service is unwell, not the app's
 * ordinary answers (NOT_FOUND, INVALID_ARGUMENT... are successes here).
 *
 * <p>The seed's semantics map as: failure threshold → {@code failureRateThreshold} over at least
 * {@code minimumCalls} of the last {@code slidingWindow} calls; success threshold → {@code
 * permittedInHalfOpen} trial calls; reset timeout → {@code waitInOpen}; call timeout → the deadline,
 * whose DEADLINE_EXCEEDED counts as a failure.
 */
public final class CircuitBreakerFilter implements StreamFilter {
  static final Set<String> FAILURES = Set.of("UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN");

  private final Function<String, CircuitBreakerPolicy> policies;
  private final MeterRegistry registry;
  private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();

  public CircuitBreakerFilter(Function<String, CircuitBreakerPolicy> policies, MeterRegistry registry) {
    this.policies = policies;
    this.registry = registry;
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    CircuitBreaker breaker = breakers.computeIfAbsent(request.service(), this::create);
    if (!breaker.tryAcquirePermission()) {
      return Optional.of(new ProxyError("client-sidecar", "service '" + request.service() + "'",
          ProxyError.UNAVAILABLE, "circuit_open", "circuit open: too many recent failures; failing fast"));
    }
    request.attach(CircuitBreaker.class, breaker); // only admitted requests report an outcome
    return Optional.empty();
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    CircuitBreaker breaker = request.attachment(CircuitBreaker.class);
    if (breaker == null) {
      return;
    }
    if (FAILURES.contains(outcome.code())) {
      breaker.onError(outcome.durationNanos(), TimeUnit.NANOSECONDS,
          new IllegalStateException(outcome.code()));
    } else if (outcome.code().equals("CANCELLED")) {
      breaker.releasePermission(); // the caller went away: says nothing about the service
    } else {
      breaker.onSuccess(outcome.durationNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** The breaker's state for /clusters, or empty when the service has had no call yet. */
  public Optional<CircuitBreaker.State> state(String service) {
    return Optional.ofNullable(breakers.get(service)).map(CircuitBreaker::getState);
  }

  private CircuitBreaker create(String service) {
    CircuitBreakerPolicy policy = policies.apply(service);
    CircuitBreaker breaker = CircuitBreaker.of(service, CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(policy.slidingWindow())
        .minimumNumberOfCalls(policy.minimumCalls())
        .failureRateThreshold(policy.failureRateThreshold())
        .waitDurationInOpenState(policy.waitInOpen())
        .permittedNumberOfCallsInHalfOpenState(policy.permittedInHalfOpen())
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .maxWaitDurationInHalfOpenState(Duration.ZERO)
        .build());
    // 0 closed, 1 open, 2 half open
    Gauge.builder("taskmesh.circuit.breaker.state", breaker, b -> switch (b.getState()) {
          case OPEN, FORCED_OPEN -> 1;
          case HALF_OPEN -> 2;
          default -> 0;
        })
        .tag("service", service).register(registry);
    return breaker;
  }
}
