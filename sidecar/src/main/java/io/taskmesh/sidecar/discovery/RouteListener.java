package io.taskmesh.sidecar.discovery;

import io.taskmesh.config.RouteRule;
import java.util.List;

/** Receives a service's route rules from discovery each time its set arrives (none: no rules). */
@FunctionalInterface
public interface RouteListener {
  void onRoutes(String service, List<RouteRule> rules);
}
