package io.taskmesh.config;

import java.util.List;
import java.util.Map;

/**
 * Where endpoints come from.
 *
 * @param address the control plane's {@code host:port}, or {@code null} when only static endpoints are used
 * @param staticEndpoints service name to {@code host:port} endpoints (YAML key {@code static})
 */
public record DiscoveryConfig(String address, Map<String, List<String>> staticEndpoints) {

  public DiscoveryConfig {
    staticEndpoints = Map.copyOf(staticEndpoints);
  }

  public boolean hasControlPlane() {
    return address != null;
  }
}
