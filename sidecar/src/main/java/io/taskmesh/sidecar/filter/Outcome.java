package io.taskmesh.sidecar.filter;

/**
 * How a request ended.
 *
 * @param code the gRPC status name (e.g. {@code OK}, {@code UNAVAILABLE}) or {@code CANCELLED} on reset
 * @param endpoint the endpoint that served it, {@code null} when none was reached
 * @param proxyGenerated true when the proxy answered itself rather than passing on the app's answer
 */
public record Outcome(String code, String endpoint, long durationNanos, boolean proxyGenerated) {}
