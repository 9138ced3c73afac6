package io.taskmesh.operator.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.config.Header;
import io.taskmesh.config.HeaderModifier;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteMatch;
import io.taskmesh.config.RouteRule;
import io.taskmesh.operator.discovery.ServiceKey;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * GRPCRoutes stored in the (mock) API server become route tables, and the controller writes their status
 * back as Gateway API implementations do.
 */
@EnableKubernetesMockClient(crud = true)
class GrpcRouteControllerTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  private static final String NAMESPACE = "shop";
  private static final ServiceKey PARENT = new ServiceKey("task-service", NAMESPACE);

  static KubernetesClient client;

  @Test
  void anAcceptedRouteBecomesTheParentsTableAndAnInvalidOneChangesNothing() {
    for (String name : List.of("task-service", "task-service-v1", "task-service-v2")) {
      client.resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
          .withNewSpec().addNewPort().withPort(50051).endPort().endSpec().build()).create();
    }
    RouteTables tables = new RouteTables();
    try (GrpcRouteController controller = new GrpcRouteController(client, tables, Clock.systemUTC())) {
      controller.start();
      client.resource(RouteFixtures.canary(NAMESPACE, "task-service", 90, 10)).create();

      RouteParentStatus accepted = awaitParentStatus(status -> "True".equals(condition(status, "ResolvedRefs").getStatus()));
      assertThat(accepted.getControllerName()).isEqualTo("taskmesh.io/mesh-controller");
      assertThat(accepted.getParentRef().getName()).isEqualTo("task-service");
      assertThat(condition(accepted, "Accepted")).satisfies(c -> {
        assertThat(c.getStatus()).isEqualTo("True");
        assertThat(c.getReason()).isEqualTo("Accepted");
        assertThat(c.getObservedGeneration()).isEqualTo(route().getMetadata().getGeneration());
        assertThat(c.getLastTransitionTime()).isNotBlank();
      });
      assertThat(condition(accepted, "ResolvedRefs").getReason()).isEqualTo("ResolvedRefs");
      await().atMost(BOUND).until(() -> !tables.current(PARENT).rules().isEmpty());
      RouteTables.Table first = tables.current(PARENT);
      assertThat(first.rules()).containsExactly(
          new RouteRule(List.of(new RouteMatch(null, null, List.of(new Header("x-api-version", "v2")))),
              List.of(new RouteBackend("task-service-v2", 1)), HeaderModifier.NONE, null),
          new RouteRule(List.of(), List.of(new RouteBackend("task-service-v1", 90), new RouteBackend("task-service-v2", 10)),
              new HeaderModifier(List.of(new Header("x-canary", "weighted")), List.of(), List.of("x-debug")), null));

      edit(route -> route.getSpec().getRules().get(1).getBackendRefs().get(1).setName("task-service-v3"));
      RouteParentStatus broken = awaitParentStatus(status -> "False".equals(condition(status, "ResolvedRefs").getStatus()));
      assertThat(condition(broken, "ResolvedRefs").getReason()).isEqualTo("BackendNotFound");
      assertThat(condition(broken, "ResolvedRefs").getMessage()).contains("task-service-v3");
      assertThat(condition(broken, "Accepted").getStatus()).isEqualTo("True");
      assertThat(tables.current(PARENT)).as("an invalid route changes no traffic").isEqualTo(first);

      edit(route -> {
        route.getSpec().getRules().get(1).getBackendRefs().get(1).setName("task-service-v2");
        route.getSpec().getRules().get(1).getBackendRefs().get(0).setWeight(0);
        route.getSpec().getRules().get(1).getBackendRefs().get(1).setWeight(100);
      });
      await().atMost(BOUND).until(() -> tables.current(PARENT).version() > first.version());
      assertThat(tables.current(PARENT).rules().get(1).backends())
          .containsExactly(new RouteBackend("task-service-v1", 0), new RouteBackend("task-service-v2", 100));
      RouteParentStatus fixed = awaitParentStatus(status -> "True".equals(condition(status, "ResolvedRefs").getStatus()));
      assertThat(route().getStatus().getParents()).hasSize(1);
      assertThat(condition(fixed, "ResolvedRefs").getObservedGeneration()).isEqualTo(route().getMetadata().getGeneration());

      client.resource(route()).delete();
      await().atMost(BOUND).until(() -> tables.current(PARENT).rules().isEmpty());
    }
  }

  @Test
  void aRouteWhoseParentServiceIsMissingIsNotAccepted() {
    RouteTables tables = new RouteTables();
    try (GrpcRouteController controller = new GrpcRouteController(client, tables, Clock.systemUTC())) {
      controller.start();
      client.resource(RouteFixtures.canary("elsewhere", "nowhere", 50, 50)).create();
      RouteParentStatus status = await().atMost(BOUND).until(() -> parentStatus("elsewhere", "nowhere"),
          s -> s != null);
      assertThat(condition(status, "Accepted").getStatus()).isEqualTo("False");
      assertThat(condition(status, "Accepted").getReason()).isEqualTo("NoMatchingParent");
      assertThat(tables.services()).isEmpty();
    }
  }

  private static RouteParentStatus awaitParentStatus(java.util.function.Predicate<RouteParentStatus> until) {
    return await().atMost(BOUND).until(() -> parentStatus(NAMESPACE, "task-service"), s -> s != null && until.test(s));
  }

  private static RouteParentStatus parentStatus(String namespace, String name) {
    GRPCRoute route = client.resources(GRPCRoute.class).inNamespace(namespace).withName(name + "-canary").get();
    return route == null || route.getStatus() == null || route.getStatus().getParents().isEmpty() ? null
        : route.getStatus().getParents().get(0);
  }

  private static GRPCRoute route() {
    return client.resources(GRPCRoute.class).inNamespace(NAMESPACE).withName("task-service-canary").get();
  }

  private static void edit(Consumer<GRPCRoute> change) {
    await().atMost(BOUND).ignoreExceptions().until(() -> {
      GRPCRoute current = new GRPCRouteBuilder(route()).build();
      change.accept(current);
      client.resource(current).update();
      return true;
    });
  }

  private static Condition condition(RouteParentStatus status, String type) {
    return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
  }
}
