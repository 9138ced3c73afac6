package io.taskmesh.sidecar.filter;

/**
 * How a request ended.
 *
 * @param code the gRPC status name (e.g. {@code OK}, {@code UNAVAILABLE}) or {@code CANCELLED} on reset
 * @param endpoint the endpoint that served it, {@code null} when none was reached
 * @param proxyGenerated true when the proxy answered itself rather than passing on the app's answer
 * @param fault who the failure, if any, says something about
 */
public record Outcome(String code, String endpoint, long durationNanos, boolean proxyGenerated, Fault fault) {
  /** Who caused how a request ended: what circuit breakers learn from it. */
  public enum Fault {
    /** Nothing failed, or the upstream gave an ordinary answer (NOT_FOUND, INVALID_ARGUMENT, ...). */
    NONE,
    /**
     * The upstream or the way to it: UNAVAILABLE, INTERNAL, UNKNOWN or DATA_LOSS from it, a reset, a failed
     * connect, no endpoint, or a deadline the upstream had its full time for (the proxy's own timeouts).
     */
    UPSTREAM,
    /**
     * The caller: it cancelled, chose a deadline shorter than the route timeout, was refused by a limit, or
     * sent a body that is not a well-formed gRPC message (whatever the upstream answered to it).
     */
    CALLER
  }
}
