package io.taskmesh.sidecar.logical;

import io.taskmesh.sidecar.filter.Outcome.Fault;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Who caused how a request ended ({@link Fault}), decided once, when it ends, for the circuit breaker. */
final class Faults {
  private Faults() {}

  /** An answer the upstream gave. */
  static Fault ofAnswer(String status, boolean upstreamHadItsTime, BooleanSupplier requestIsMalformed) {
    return switch (status) {
      case "UNAVAILABLE", "INTERNAL", "UNKNOWN", "DATA_LOSS" ->
          requestIsMalformed.getAsBoolean() ? Fault.CALLER : Fault.UPSTREAM;
      case "DEADLINE_EXCEEDED" -> upstreamHadItsTime ? Fault.UPSTREAM : Fault.CALLER;
      case "CANCELLED" -> Fault.CALLER;
      default -> Fault.NONE;
    };
  }

  /**
   * A deadline is the upstream's failure when the proxy set it (the route timeout), or when the caller's
   * was no shorter than the route timeout would have been; a caller's shorter deadline is its own choice.
   *
   * @param deadline null when the request had none (then the upstream answered DEADLINE_EXCEEDED on its own)
   */
  static boolean upstreamHadItsTime(Deadline deadline, boolean unary, Duration routeTimeout) {
    if (deadline == null || deadline.isRouteTimeout()) {
      return true;
    }
    return unary && !routeTimeout.isZero() && deadline.allowedMillis() >= routeTimeout.toMillis();
  }
}
