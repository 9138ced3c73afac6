package io.taskmesh.operator.route;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.taskmesh.config.RouteRule;
import io.taskmesh.operator.discovery.ServiceKey;
import java.util.List;

/**
 * What one GRPCRoute means for one parent Service: its two conditions as Gateway API defines them, and the
 * rules it adds to the parent's table when both hold.
 *
 * @param rules empty unless {@link #usable()}
 */
public record RouteVerdict(ParentReference parentRef, ServiceKey parent, Condition accepted,
    Condition resolvedRefs, List<RouteRule> rules) {

  /** One condition's status, reason and message. */
  public record Condition(boolean holds, String reason, String message) {}

  public RouteVerdict {
    rules = List.copyOf(rules);
  }

  /** The rules may change traffic: the route is accepted and every reference resolves. */
  public boolean usable() {
    return accepted.holds() && resolvedRefs.holds();
  }
}
