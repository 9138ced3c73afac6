package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteTableMessages;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.route.GrpcRouteController;
import io.taskmesh.operator.route.RouteFixtures;
import io.taskmesh.operator.route.RouteTables;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A GRPCRoute stored in the (mock) API server reaches a sidecar subscribed to its parent Service. */
@EnableKubernetesMockClient(crud = true)
class GrpcRouteDiscoveryTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  private static final String NAMESPACE = "shop";

  static KubernetesClient client;

  @Test
  void theParentsRoutesTravelWithItsEndpointsAndEveryChangeRaisesTheVersion() {
    for (String name : List.of("task-service", "task-service-v1", "task-service-v2")) {
      client.resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
          .withNewSpec().addNewPort().withPort(50051).endPort().endSpec().build()).create();
    }
    EndpointRegistry endpoints = new EndpointRegistry();
    endpoints.update(new ServiceKey("task-service", NAMESPACE),
        List.of(Endpoint.newBuilder().setAddress("10.0.0.1").setPort(15006).setReady(true).build()));
    RouteTables tables = new RouteTables();
    try (GrpcRouteController controller = new GrpcRouteController(client, tables, Clock.systemUTC());
        DiscoveryServer server = DiscoveryServer.start("127.0.0.1", 0, endpoints, tables, node -> { });
        DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", NAMESPACE, "task-service")) {
      await().atMost(BOUND).until(() -> sidecar.latest("task-service") != null);
      assertThat(sidecar.latest("task-service").getRoutes().getRulesCount()).isZero();
      long before = sidecar.latest("task-service").getVersion();

      controller.start();
      client.resource(RouteFixtures.canary(NAMESPACE, "task-service", 90, 10)).create();
      EndpointSet routed = await().atMost(BOUND).until(() -> sidecar.latest("task-service"),
          set -> set.getRoutes().getRulesCount() == 2);
      assertThat(routed.getVersion()).isGreaterThan(before);
      assertThat(routed.getEndpointsCount()).as("the endpoints travel along").isEqualTo(1);
      assertThat(RouteTableMessages.rules(routed.getRoutes())).isEqualTo(tables.current(new ServiceKey("task-service", NAMESPACE)).rules());

      GRPCRoute route = client.resources(GRPCRoute.class).inNamespace(NAMESPACE).withName("task-service-canary").get();
      GRPCRoute shifted = new GRPCRouteBuilder(route).build();
      shifted.getSpec().getRules().get(1).getBackendRefs().get(0).setWeight(0);
      shifted.getSpec().getRules().get(1).getBackendRefs().get(1).setWeight(100);
      client.resource(shifted).update();
      EndpointSet after = await().atMost(BOUND).until(() -> sidecar.latest("task-service"),
          set -> RouteTableMessages.rules(set.getRoutes()).get(1).backends().get(0).weight() == 0);
      assertThat(after.getVersion()).isGreaterThan(routed.getVersion());
      assertThat(after.getRoutes().getVersion()).isGreaterThan(routed.getRoutes().getVersion());
      assertThat(RouteTableMessages.rules(after.getRoutes()).get(1).backends())
          .containsExactly(new RouteBackend("task-service-v1", 0), new RouteBackend("task-service-v2", 100));
    }
  }
}
