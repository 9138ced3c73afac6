package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.HeaderModifier;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteRule;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiscoveredRoutesTest {
  private static final RouteRule SPLIT = new RouteRule(List.of(),
      List.of(new RouteBackend("task-service-v1", 90), new RouteBackend("task-service-v2", 10)), HeaderModifier.NONE,
      null);

  @Test
  void anUpdateSaysWhetherAnythingChangedAndTheBackendsFollowTheRules() {
    DiscoveredRoutes routes = new DiscoveredRoutes();

    assertThat(routes.update("task-service", List.of())).as("no rules before, none now").isFalse();
    assertThat(routes.update("task-service", List.of(SPLIT))).isTrue();
    assertThat(routes.update("task-service", List.of(SPLIT))).as("the same set sent again").isFalse();
    assertThat(routes.backends()).containsExactlyInAnyOrder("task-service-v1", "task-service-v2");
    assertThat(routes.snapshot()).containsOnlyKeys("task-service");

    assertThat(routes.update("task-service", List.of())).as("the route was deleted").isTrue();
    assertThat(routes.snapshot()).isEmpty();
    assertThat(routes.backends()).isEmpty();
  }
}
