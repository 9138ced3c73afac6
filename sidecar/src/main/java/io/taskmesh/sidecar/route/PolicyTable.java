package io.taskmesh.sidecar.route;

import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.RouteRule;
import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The request policies of one accepted config, built once when the config is accepted: one policy per
 * upstream the config names (by its policy or its routes), one for every other upstream, one for the
 * inbound side. Immutable; a reload builds a new table and swaps it whole ({@link ActivePolicies}).
 */
public final class PolicyTable {
  private final Map<String, CallPolicy> upstreams;
  private final CallPolicy otherUpstreams;
  private final CallPolicy inbound;

  private PolicyTable(Map<String, CallPolicy> upstreams, CallPolicy otherUpstreams, CallPolicy inbound) {
    this.upstreams = upstreams;
    this.otherUpstreams = otherUpstreams;
    this.inbound = inbound;
  }

  /** @param clusters where the backends of the config's routes find their clusters */
  public static PolicyTable of(MeshConfig config, ClusterResolver clusters) {
    return of(config, Map.of(), clusters);
  }

  /**
   * @param discovered route rules discovery sent per service; a service the config has routes for keeps the
   *     config's (a proxy's own config is the explicit, local choice)
   * @param clusters where the backends of the routes find their clusters
   */
  public static PolicyTable of(MeshConfig config, Map<String, List<RouteRule>> discovered, ClusterResolver clusters) {
    Map<String, List<RouteRule>> routed = new HashMap<>(discovered);
    routed.putAll(config.outbound().routes());
    Map<String, CallPolicy> upstreams = new HashMap<>();
    Set<String> named = new HashSet<>(config.outbound().upstreams().keySet());
    named.addAll(routed.keySet());
    for (String service : named) {
      UpstreamPolicy policy = config.outbound().policyFor(service);
      RouteRules routes = RouteRules.of(routed.getOrDefault(service, List.of()), clusters);
      upstreams.put(service, new CallPolicy(policy.timeout(), policy.retries(), policy.circuitBreaker(), null, 0, 0,
          config.accessLog(), routes));
    }
    UpstreamPolicy defaults = config.outbound().defaults();
    return new PolicyTable(Map.copyOf(upstreams),
        new CallPolicy(defaults.timeout(), defaults.retries(), defaults.circuitBreaker(), null, 0, 0,
            config.accessLog(), RouteRules.NONE),
        new CallPolicy(Duration.ZERO, CallPolicy.NO_RETRIES, null, config.inbound().rateLimit(),
            config.inbound().maxConcurrentRequests(), config.inbound().maxConcurrentStreamingRequests(),
            config.accessLog(), RouteRules.NONE));
  }

  /** A call to {@code service} from the local app (or the gateway). */
  public CallPolicy outbound(String service) {
    return upstreams.getOrDefault(service, otherUpstreams);
  }

  /** Whether the config routes {@code service} by rules (it then needs no cluster of its own). */
  public boolean hasRoutes(String service) {
    CallPolicy policy = upstreams.get(service);
    return policy != null && policy.routes() != RouteRules.NONE;
  }

  /** A call from the mesh to the local app. */
  public CallPolicy inbound() {
    return inbound;
  }
}
