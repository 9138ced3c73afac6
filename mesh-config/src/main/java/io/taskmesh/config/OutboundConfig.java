package io.taskmesh.config;

import java.util.Map;

/**
 * The side the local app calls through.
 *
 * @param defaults the policy of every upstream service without its own entry
 * @param upstreams per-service policies, already merged over {@code defaults} key by key
 */
public record OutboundConfig(
    int port, DiscoveryConfig discovery, UpstreamPolicy defaults, Map<String, UpstreamPolicy> upstreams) {

  public OutboundConfig {
    upstreams = Map.copyOf(upstreams);
  }

  public UpstreamPolicy policyFor(String service) {
    return upstreams.getOrDefault(service, defaults);
  }
}
