package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.GatewayRoute;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayRoutesTest {
  private final GatewayRoutes routes = new GatewayRoutes(List.of(
      new GatewayRoute("/", null, "web", false),
      new GatewayRoute("/api/tasks", null, "task-service", true),
      new GatewayRoute("/api/tasks", "admin.example.com", "task-admin", true)));

  @Test
  void theLongestMatchingPrefixWins() {
    assertThat(routes.match("any.example.com", "/api/tasks/1")).map(GatewayRoute::service).hasValue("task-service");
    assertThat(routes.match("any.example.com", "/other")).map(GatewayRoute::service).hasValue("web");
  }

  @Test
  void aRouteWithAHostMatchesOnlyThatHostWithOrWithoutPortAndCase() {
    assertThat(routes.match("Admin.Example.com:8080", "/api/tasks")).map(GatewayRoute::service).hasValue("task-admin");
    assertThat(routes.match("admin.example.com", "/api/tasks")).map(GatewayRoute::service).hasValue("task-admin");
    assertThat(routes.match(null, "/api/tasks")).map(GatewayRoute::service).hasValue("task-service");
  }

  @Test
  void aQualifiedServiceIsServedByTheClusterOfItsName() {
    assertThat(GatewayRoutes.clusterOf("task-service.prod")).isEqualTo("task-service");
    assertThat(GatewayRoutes.clusterOf("task-service")).isEqualTo("task-service");
  }
}
