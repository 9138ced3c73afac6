package io.taskmesh.config;

import java.util.List;
import java.util.Map;

/**
 * The side the local app calls through.
 *
 * @param defaults the policy of every upstream service without its own entry
 * @param upstreams per-service policies, already merged over {@code defaults} key by key
 * @param routes per logical service, the rules tried in order (a GRPCRoute whose parent is the service);
 *     a request no rule takes goes to the service's own endpoints
 */
public record OutboundConfig(int port, DiscoveryConfig discovery, UpstreamPolicy defaults,
    Map<String, UpstreamPolicy> upstreams, Map<String, List<RouteRule>> routes) {

  public OutboundConfig {
    upstreams = Map.copyOf(upstreams);
    routes = Map.copyOf(routes);
  }

  public UpstreamPolicy policyFor(String service) {
    return upstreams.getOrDefault(service, defaults);
  }
}
