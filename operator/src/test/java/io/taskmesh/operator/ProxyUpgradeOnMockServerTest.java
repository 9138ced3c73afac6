package io.taskmesh.operator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import static io.taskmesh.operator.TestTaskServices.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.taskmesh.operator.api.SidecarSpec;
import io.taskmesh.operator.dependent.ProxyImage;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.taskmesh.operator.reconciler.SidecarCensus;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * An operator upgrade on the mock API server: the old operator made the Deployment, a new one with a new
 * proxy image takes over. The pods are not rolled until the TaskService asks, and status shows the skew.
 */
@EnableKubernetesMockClient(crud = true)
class ProxyUpgradeOnMockServerTest {
  private static final String NAMESPACE = "upgrade";
  private static final Duration BOUND = Duration.ofSeconds(60);
  private static final OperatorSettings NEXT = new OperatorSettings("taskmesh/taskmesh-proxy:next",
      SETTINGS.proxyInitImage(), "taskmesh/task-service:next", SETTINGS.discoveryAddress(), SETTINGS.imagePullSecrets());

  static KubernetesClient client;

  @Test
  void anOperatorUpgradeRollsNoPodsUntilTheTaskServiceOptsIn() {
    Operator old = start(SETTINGS);
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "tasks", "2s")).create();
    Deployment before = await().atMost(BOUND).until(this::deployment, d -> d != null);
    assertThat(proxyImage(before)).isEqualTo(SETTINGS.proxyImage());
    old.stop();

    Operator upgraded = start(NEXT);
    try {
      TaskService skewed = await().atMost(BOUND).until(this::taskService,
          ts -> ts.getStatus() != null && NEXT.proxyImage().equals(ts.getStatus().operatorProxyImage));
      assertThat(skewed.getStatus().proxyImage).isEqualTo(SETTINGS.proxyImage());
      Condition current = condition(skewed, "ProxyCurrent");
      assertThat(current.getStatus()).isEqualTo("False");
      assertThat(current.getReason()).isEqualTo("ProxyVersionSkew");
      assertThat(current.getMessage()).contains("spec.sidecar.upgradePolicy: Automatic");
      assertThat(deployment().getSpec().getTemplate()).as("the new operator left the pod template alone")
          .isEqualTo(before.getSpec().getTemplate());

      await().atMost(BOUND).ignoreExceptions().until(() -> {
        client.resources(TaskService.class).inNamespace(NAMESPACE).withName("tasks").edit(ts -> {
          ts.getSpec().sidecar = new SidecarSpec();
          ts.getSpec().sidecar.upgradePolicy = SidecarSpec.UpgradePolicy.Automatic;
          return ts;
        });
        return true;
      });

      await().atMost(BOUND).until(() -> proxyImage(deployment()).equals(NEXT.proxyImage()));
      assertThat(deployment().getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
          .as("the app keeps its image: spec.image is how it changes").isEqualTo(SETTINGS.taskServiceImage());
      await().atMost(BOUND).until(() -> "True".equals(condition(taskService(), "ProxyCurrent").getStatus()));
    } finally {
      upgraded.stop();
    }
  }

  /** Each operator gets its own client, as each process would: stopping an operator closes its client. */
  private static Operator start(OperatorSettings settings) {
    Operator operator = Operators.create(new KubernetesClientBuilder().withConfig(client.getConfiguration()).build(),
        null, new SimpleMeterRegistry());
    operator.register(new TaskServiceReconciler(settings, Clock.systemUTC(), SidecarCensus.none(),
        new EventRecorder(Clock.systemUTC(), "test")));
    operator.start();
    return operator;
  }

  private Deployment deployment() {
    return client.apps().deployments().inNamespace(NAMESPACE).withName("tasks").get();
  }

  private TaskService taskService() {
    return client.resources(TaskService.class).inNamespace(NAMESPACE).withName("tasks").get();
  }

  private static String proxyImage(Deployment deployment) {
    return ProxyImage.running(Optional.of(deployment)).orElseThrow();
  }

  private static Condition condition(TaskService service, String type) {
    return service.getStatus().conditions.stream().filter(c -> c.getType().equals(type)).findFirst()
        .orElseThrow(() -> new AssertionError("no condition " + type));
  }
}
