package io.taskmesh.config;

import java.time.Duration;
import java.util.List;

/**
 * One rule of a service's routes (a GRPCRoute rule): requests that fit any of its matches (every request
 * when it has none) go to its backends, split by weight, with its header changes and timeout.
 *
 * @param timeout the route timeout of a unary call without deadline; {@code null}: the service's {@code timeout}
 */
public record RouteRule(List<RouteMatch> matches, List<RouteBackend> backends, HeaderModifier requestHeaders,
    Duration timeout) {
  public RouteRule {
    matches = List.copyOf(matches);
    backends = List.copyOf(backends);
  }
}
