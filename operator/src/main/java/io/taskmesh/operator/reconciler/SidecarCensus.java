package io.taskmesh.operator.reconciler;

import java.util.Map;

/** How many sidecars of a service run each config hash, as they report it when they subscribe for endpoints. */
@FunctionalInterface
public interface SidecarCensus {

  Map<String, Long> configHashes(String namespace, String service);

  /** For an operator without a discovery server (tests): no sidecar reports. */
  static SidecarCensus none() {
    return (namespace, service) -> Map.of();
  }
}
