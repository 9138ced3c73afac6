package io.taskmesh.sidecar.route;

import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.UpstreamPolicy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The request policies of one accepted config, built once when the config is accepted: one policy per
 * upstream named in it, one for every other upstream, one for the inbound side. Immutable; a reload builds
 * a new table and swaps it whole ({@link ActivePolicies}).
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

  public static PolicyTable of(MeshConfig config) {
    Map<String, CallPolicy> upstreams = new HashMap<>();
    config.outbound().upstreams().forEach((service, policy) -> upstreams.put(service, outbound(policy, config)));
    return new PolicyTable(Map.copyOf(upstreams), outbound(config.outbound().defaults(), config),
        new CallPolicy(Duration.ZERO, CallPolicy.NO_RETRIES, null, config.inbound().rateLimit(),
            config.inbound().maxConcurrentRequests(), config.accessLog()));
  }

  private static CallPolicy outbound(UpstreamPolicy policy, MeshConfig config) {
    return new CallPolicy(policy.timeout(), policy.retries(), policy.circuitBreaker(), null, 0, config.accessLog());
  }

  /** A call to {@code service} from the local app (or the gateway). */
  public CallPolicy outbound(String service) {
    return upstreams.getOrDefault(service, otherUpstreams);
  }

  /** A call from the mesh to the local app. */
  public CallPolicy inbound() {
    return inbound;
  }
}
