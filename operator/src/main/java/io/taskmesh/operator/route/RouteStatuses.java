package io.taskmesh.operator.route;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The status a GRPCRoute gets, as Gateway API implementations write it: one entry of status.parents per
 * parent this controller serves, with Accepted and ResolvedRefs. Entries other controllers wrote stay, and
 * a condition keeps its lastTransitionTime while its status does not change, so an unchanged verdict gives
 * an unchanged status (and no write).
 */
public final class RouteStatuses {
  public static final String CONTROLLER_NAME = "taskmesh.io/mesh-controller";

  private final Clock clock;

  public RouteStatuses(Clock clock) {
    this.clock = clock;
  }

  public GRPCRouteStatus desired(GRPCRoute route, List<RouteVerdict> verdicts) {
    List<RouteParentStatus> previous = route.getStatus() == null ? List.of() : route.getStatus().getParents();
    List<RouteParentStatus> parents = new ArrayList<>();
    previous.stream().filter(entry -> !CONTROLLER_NAME.equals(entry.getControllerName())).forEach(parents::add);
    long generation = Objects.requireNonNullElse(route.getMetadata().getGeneration(), 0L);
    for (RouteVerdict verdict : verdicts) {
      List<Condition> before = previous.stream()
          .filter(entry -> CONTROLLER_NAME.equals(entry.getControllerName())
              && sameParent(entry.getParentRef(), verdict.parentRef()))
          .findFirst().map(RouteParentStatus::getConditions).orElse(List.of());
      parents.add(new RouteParentStatusBuilder()
          .withParentRef(verdict.parentRef())
          .withControllerName(CONTROLLER_NAME)
          .withConditions(
              condition("Accepted", verdict.accepted(), generation, before),
              condition("ResolvedRefs", verdict.resolvedRefs(), generation, before))
          .build());
    }
    return new GRPCRouteStatus(parents);
  }

  private Condition condition(String type, RouteVerdict.Condition verdict, long generation, List<Condition> before) {
    String status = verdict.holds() ? "True" : "False";
    String since = before.stream().filter(c -> type.equals(c.getType()) && status.equals(c.getStatus()))
        .map(Condition::getLastTransitionTime).filter(Objects::nonNull).findFirst()
        .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    return new Condition(since, verdict.message(), generation, verdict.reason(), status, type);
  }

  /** Gateway API's defaults applied, so a stored ref with defaults filled in still matches. */
  private static boolean sameParent(ParentReference a, ParentReference b) {
    return a != null && Objects.equals(a.getName(), b.getName())
        && Objects.equals(Objects.requireNonNullElse(a.getGroup(), "gateway.networking.k8s.io"),
            Objects.requireNonNullElse(b.getGroup(), "gateway.networking.k8s.io"))
        && Objects.equals(Objects.requireNonNullElse(a.getKind(), "Gateway"),
            Objects.requireNonNullElse(b.getKind(), "Gateway"))
        && Objects.equals(a.getNamespace(), b.getNamespace())
        && Objects.equals(a.getSectionName(), b.getSectionName())
        && Objects.equals(a.getPort(), b.getPort());
  }
}
