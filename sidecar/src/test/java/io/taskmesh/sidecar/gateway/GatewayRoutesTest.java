package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.GatewayRoute;
import io.taskmesh.sidecar.discovery.ServiceNames;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayRoutesTest {
  private final GatewayRoutes routes = new GatewayRoutes(List.of(
      new GatewayRoute("/", null, "web", false),
      new GatewayRoute("/api/tasks", null, "task-service", true),
      new GatewayRoute("/api/tasks", "admin.example.com", "task-admin", true)), new ServiceNames("edge"));

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
  void aServiceOfAnotherNamespaceIsAClusterOfItsOwnAndOneOfTheGatewaysIsNamedAlone() {
    assertThat(routes.clusterOf("task-service.prod")).isEqualTo("task-service.prod");
    assertThat(routes.clusterOf("task-service.edge.svc.cluster.local")).isEqualTo("task-service");
    assertThat(routes.clusterOf("task-service")).isEqualTo("task-service");
  }
}
