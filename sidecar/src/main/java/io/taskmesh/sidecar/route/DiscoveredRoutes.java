package io.taskmesh.sidecar.route;

import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteRule;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The route rules discovery sent for the services this proxy calls (the GRPCRoutes whose parent each is),
 * the latest per service. The policy table is rebuilt from them and the config whenever they change.
 */
public final class DiscoveredRoutes {
  private final Map<String, List<RouteRule>> rules = new ConcurrentHashMap<>();

  /** @return whether the service's rules changed */
  public boolean update(String service, List<RouteRule> next) {
    List<RouteRule> previous = next.isEmpty() ? rules.remove(service) : rules.put(service, List.copyOf(next));
    return !next.equals(previous == null ? List.of() : previous);
  }

  public Map<String, List<RouteRule>> snapshot() {
    return Map.copyOf(rules);
  }

  /** The services the rules send to: this proxy needs their endpoints before a rule picks one. */
  public Set<String> backends() {
    return rules.values().stream().flatMap(List::stream).flatMap(rule -> rule.backends().stream())
        .map(RouteBackend::service).collect(Collectors.toUnmodifiableSet());
  }
}
