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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One resilience4j circuit breaker per upstream service. Open, it fails calls fast with UNAVAILABLE
 * ("circuit open"); after {@code waitInOpen} it lets {@code permittedInHalfOpen} trial calls through and
 * closes again if they succeed. Only failures the upstream caused count ({@link Outcome.Fault#UPSTREAM}); the
 * app's ordinary answers (NOT_FOUND, INVALID_ARGUMENT...) are successes, and what the caller caused (a
 * cancel, its own short deadline, a malformed body) is not counted at all, so no caller can open the
 * circuit for everyone.
 *
 * <p>The seed's semantics map as: failure threshold → {@code failureRateThreshold} over at least
 * {@code minimumCalls} of the last {@code slidingWindow} calls; success threshold → {@code
 * permittedInHalfOpen} trial calls; reset timeout → {@code waitInOpen}; call timeout → the route timeout,
 * whose DEADLINE_EXCEEDED counts as a failure.
 *
 * <p>The policy is the one the request started with ({@link RequestInfo#policy()}): when a reload changed a service's
 * {@code circuitBreaker} policy, the service gets a new breaker, so its state starts over as CLOSED with
 * no recorded calls (an open circuit closes). Requests admitted by the old breaker report to it.
 */
public final class CircuitBreakerFilter implements StreamFilter {
  private final MeterRegistry registry;
  private final Map<String, PolicyBreaker> breakers = new ConcurrentHashMap<>();

  /** A breaker and the policy it was made from. */
  private record PolicyBreaker(CircuitBreakerPolicy policy, CircuitBreaker breaker) {}

  public CircuitBreakerFilter(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    CircuitBreaker breaker = breakerFor(request.service(), request.policy().circuitBreaker());
    if (!breaker.tryAcquirePermission()) {
      return Optional.of(request.error(ProxyError.UNAVAILABLE, "circuit_open",
          "circuit open: too many recent failures; failing fast"));
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
    switch (outcome.fault()) {
      case UPSTREAM -> breaker.onError(outcome.durationNanos(), TimeUnit.NANOSECONDS,
          new IllegalStateException(outcome.code()));
      case CALLER -> breaker.releasePermission(); // says nothing about the service
      case NONE -> breaker.onSuccess(outcome.durationNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** The breaker's state for /clusters, or empty when the service has had no call yet. */
  public Optional<CircuitBreaker.State> state(String service) {
    return Optional.ofNullable(breakers.get(service)).map(current -> current.breaker().getState());
  }

  private CircuitBreaker breakerFor(String service, CircuitBreakerPolicy policy) {
    PolicyBreaker current = breakers.get(service);
    // the same policy object, request after request, until a reload: a record's equals is a method-handle call
    if (current != null && (current.policy() == policy || current.policy().equals(policy))) {
      return current.breaker();
    }
    return breakers.compute(service, (name, existing) -> {
      if (existing != null && existing.policy().equals(policy)) {
        return existing;
      }
      if (existing == null) {
        registerStateGauge(name);
      }
      return new PolicyBreaker(policy, create(name, policy));
    }).breaker();
  }

  private static CircuitBreaker create(String service, CircuitBreakerPolicy policy) {
    return CircuitBreaker.of(service, CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(policy.slidingWindow())
        .minimumNumberOfCalls(policy.minimumCalls())
        .failureRateThreshold(policy.failureRateThreshold())
        .waitDurationInOpenState(policy.waitInOpen())
        .permittedNumberOfCallsInHalfOpenState(policy.permittedInHalfOpen())
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .maxWaitDurationInHalfOpenState(Duration.ZERO)
        .build());
  }

  /** 0 closed, 1 open, 2 half open: of whichever breaker the service has now. */
  private void registerStateGauge(String service) {
    Gauge.builder("taskmesh.circuit.breaker.state", breakers, all -> stateNumber(all.get(service)))
        .tag("service", service).register(registry);
  }

  private static int stateNumber(PolicyBreaker current) {
    if (current == null) {
      return 0; // the gauge is registered just before the service's first breaker is in the map
    }
    return switch (current.breaker().getState()) {
      case OPEN, FORCED_OPEN -> 1;
      case HALF_OPEN -> 2;
      default -> 0;
    };
  }
}
