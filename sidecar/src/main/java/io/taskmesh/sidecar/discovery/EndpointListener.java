package io.taskmesh.sidecar.discovery;

import java.util.List;

/** Receives the full endpoint set of one service each time it changes (state of the world). */
@FunctionalInterface
public interface EndpointListener {
  void onEndpoints(String service, List<EndpointAddress> endpoints);

  /** Discovery knows no service by this name. */
  default void onUnknown(String service) {}
}
