package io.taskmesh.sidecar.logical;

import io.taskmesh.sidecar.route.GrpcTimeout;
import java.time.Duration;
import java.util.Optional;

/**
 * When a request must be over: the sooner of the caller's {@code grpc-timeout} and, for a unary call, the
 * route timeout (the operator's bound holds whatever a caller asks; a stream never gets it: it would cut a
 * healthy watch).
 */
final class Deadline {
  /**
   * Further out than this (some 73 years) a deadline is as good as none; capping it keeps
   * {@code System.nanoTime} arithmetic from overflowing ({@code 99999999H} is a valid grpc-timeout).
   */
  static final long MAX_NANOS = Long.MAX_VALUE / 4;

  private final long startNanos;
  private final long atNanos;
  private final boolean routeTimeout;

  private Deadline(long startNanos, long timeoutNanos, boolean routeTimeout) {
    this.startNanos = startNanos;
    this.atNanos = startNanos + timeoutNanos;
    this.routeTimeout = routeTimeout;
  }

  /** The request's deadline, or null when it has none. */
  static Deadline of(CharSequence grpcTimeout, boolean unary, Duration routeTimeout, long startNanos) {
    Optional<Duration> callers = GrpcTimeout.parse(grpcTimeout);
    boolean routeBound = unary && !routeTimeout.isZero();
    if (routeBound && (callers.isEmpty() || routeTimeout.compareTo(callers.get()) < 0)) {
      return new Deadline(startNanos, cappedNanos(routeTimeout), true);
    }
    return callers.isEmpty() ? null : new Deadline(startNanos, cappedNanos(callers.get()), false);
  }

  private static long cappedNanos(Duration timeout) {
    return timeout.compareTo(Duration.ofNanos(MAX_NANOS)) > 0 ? MAX_NANOS : timeout.toNanos();
  }

  long remainingNanos() {
    return atNanos - System.nanoTime();
  }

  /** The route timeout, not the caller, set it. */
  boolean isRouteTimeout() {
    return routeTimeout;
  }

  long allowedMillis() {
    return (atNanos - startNanos) / 1_000_000;
  }
}
