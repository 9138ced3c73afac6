package io.taskmesh.operator;

import static io.taskmesh.operator.TestTaskServices.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.api.DatabaseSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.api.TaskService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator against the fabric8 mock API server in CRUD mode (no real API server runs here). The mock
 * has no controllers and no garbage collector: tests set Deployment status themselves and check that
 * owner references are set rather than that deletion cascades.
 */
@EnableKubernetesMockClient(crud = true)
class ReconcileOnMockServerTest {
  private static final String NAMESPACE = "shop";
  private static final Duration BOUND = Duration.ofSeconds(60);

  static KubernetesClient client;
  private static Operator operator;

  @BeforeAll
  static void startOperator() {
    operator = Operators.create(client, null, new SimpleMeterRegistry());
    operator.register(new TaskServiceReconciler(SETTINGS, Clock.systemUTC(),
        (namespace, service) -> java.util.Map.of("stale", 1L), new EventRecorder(Clock.systemUTC(), "test")));
    operator.start();
  }

  @AfterAll
  static void stopOperator() {
    operator.stop();
  }

  @Test
  void aNewTaskServiceGetsEveryDependentOwnedByItAndAStatus() {
    TaskService created = client.resource(TestTaskServices.withTimeout(NAMESPACE, "alpha", "2s")).create();

    ConfigMap configMap = await().atMost(BOUND).until(() -> get(ConfigMap.class, "alpha-proxy"), Optional::isPresent).get();
    Deployment deployment = await().atMost(BOUND).until(() -> get(Deployment.class, "alpha"), Optional::isPresent).get();
    Service service = await().atMost(BOUND).until(() -> get(Service.class, "alpha"), Optional::isPresent).get();
    ServiceAccount account = await().atMost(BOUND).until(() -> get(ServiceAccount.class, "alpha"), Optional::isPresent).get();

    for (var owned : java.util.List.of(configMap, deployment, service, account)) {
      assertThat(owned.getMetadata().getOwnerReferences()).singleElement().satisfies(owner -> {
        assertThat(owner.getKind()).isEqualTo("TaskService");
        assertThat(owner.getUid()).isEqualTo(created.getMetadata().getUid());
      });
    }
    assertThat(get(PodDisruptionBudget.class, "alpha")).as("one replica needs no budget").isEmpty();

    TaskService withStatus = await().atMost(BOUND).until(() -> taskService("alpha"),
        ts -> ts.getStatus() != null && ts.getStatus().configHash != null);
    assertThat(withStatus.getStatus().observedGeneration).isEqualTo(withStatus.getMetadata().getGeneration());
    assertThat(withStatus.getStatus().configHash)
        .isEqualTo(configMap.getMetadata().getAnnotations().get("taskmesh.io/config-hash"));
    assertThat(withStatus.getStatus().serviceAddress).isEqualTo("alpha.shop.svc:50051");
    assertThat(withStatus.getStatus().configApplied).as("the one sidecar reporting runs an old config").isEqualTo("0/1");
    assertThat(condition(withStatus, "Degraded").getStatus()).isEqualTo("False");
    assertThat(condition(withStatus, "Ready").getStatus()).as("no pod is ready on the mock yet").isEqualTo("False");
    assertThat(withStatus.getStatus().conditions).allSatisfy(c -> {
      assertThat(c.getObservedGeneration()).isEqualTo(withStatus.getMetadata().getGeneration());
      assertThat(c.getLastTransitionTime()).isNotBlank();
    });
  }

  @Test
  void aRefusedEditKeepsDescribingTheRunningPodsAndIsAnEvent() {
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "iota", "2s")).create();
    await().atMost(BOUND).until(() -> get(Deployment.class, "iota"), Optional::isPresent);
    reportReady("iota");
    await().atMost(BOUND).until(() -> taskService("iota"),
        ts -> ts.getStatus() != null && "True".equals(condition(ts, "Ready").getStatus()));

    // the CRD's rule refuses this at the API server; objects stored before the rule existed still get here
    edit("iota", ts -> ts.getSpec().replicas = 3);

    TaskService refused = await().atMost(BOUND).until(() -> taskService("iota"),
        ts -> "True".equals(condition(ts, "Degraded").getStatus()));
    assertThat(refused.getStatus().replicas).as("the pod of the last valid spec still runs").isEqualTo(1);
    assertThat(refused.getStatus().readyReplicas).isEqualTo(1);
    assertThat(refused.getStatus().ready).isEqualTo("1/1");
    assertThat(condition(refused, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(refused, "Ready").getMessage()).contains("the spec was refused");
    assertThat(condition(refused, "Degraded").getObservedGeneration()).isEqualTo(refused.getMetadata().getGeneration());
    assertThat(get(Deployment.class, "iota").orElseThrow().getSpec().getReplicas()).isEqualTo(1);
    Event event = await().atMost(BOUND).until(() -> warning("iota", "EmbeddedStoreWithReplicas"), Optional::isPresent).get();
    assertThat(event.getMessage()).contains("spec.database.postgresUrlSecret");
    assertThat(event.getInvolvedObject().getUid()).isEqualTo(refused.getMetadata().getUid());
  }

  @Test
  void anObjectOfTheSameNameThatIsNotTheOperatorsFailsTheReconcileIntoStatusAndAnEvent() {
    Service theirs = client.resource(new ServiceBuilder().withNewMetadata().withName("theta").withNamespace(NAMESPACE)
        .endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create();

    client.resource(TestTaskServices.withTimeout(NAMESPACE, "theta", "2s")).create();

    TaskService failed = await().atMost(BOUND).until(() -> taskService("theta"),
        ts -> ts.getStatus() != null && "True".equals(condition(ts, "Degraded").getStatus()));
    assertThat(condition(failed, "Degraded").getReason()).isEqualTo("ReconcileFailed");
    assertThat(condition(failed, "Degraded").getMessage()).contains("theta").contains("already exists");
    assertThat(await().atMost(BOUND).until(() -> warning("theta", "ReconcileFailed"), Optional::isPresent))
        .isPresent();
    assertThat(get(Service.class, "theta").orElseThrow().getMetadata().getResourceVersion())
        .as("the operator does not take over an object it did not make")
        .isEqualTo(theirs.getMetadata().getResourceVersion());
  }

  private static Optional<Event> warning(String name, String reason) {
    return client.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()) && reason.equals(e.getReason())
            && "Warning".equals(e.getType()))
        .findFirst();
  }

  /** What the Deployment controller would report; retried because the operator may write the object meanwhile. */
  private static void reportReady(String name) {
    await().atMost(BOUND).ignoreExceptions().until(() -> {
      Deployment deployment = get(Deployment.class, name).orElseThrow();
      deployment.setStatus(new DeploymentStatusBuilder().withReplicas(1).withReadyReplicas(1).withUpdatedReplicas(1).build());
      client.resource(deployment).updateStatus();
      return true;
    });
  }

  @Test
  void aMeshChangeRewritesTheProxyConfigAndLeavesThePodTemplateAlone() {
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "beta", "2s")).create();
    Deployment before = await().atMost(BOUND).until(() -> get(Deployment.class, "beta"), Optional::isPresent).get();
    String oldConfig = await().atMost(BOUND).until(() -> get(ConfigMap.class, "beta-proxy"), Optional::isPresent)
        .get().getData().get("proxy.yaml");

    edit("beta", ts -> ts.getSpec().mesh.timeout = "7s");

    String newConfig = await().atMost(BOUND).until(
        () -> get(ConfigMap.class, "beta-proxy").orElseThrow().getData().get("proxy.yaml"), c -> !c.equals(oldConfig));
    assertThat(newConfig).contains("timeout: 7s");
    assertThat(get(Deployment.class, "beta").orElseThrow().getSpec().getTemplate())
        .isEqualTo(before.getSpec().getTemplate());
  }

  @Test
  void anImageChangeRollsTheDeployment() {
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "gamma", "2s")).create();
    await().atMost(BOUND).until(() -> get(Deployment.class, "gamma"), Optional::isPresent);

    edit("gamma", ts -> ts.getSpec().image = "registry.example.com/tasks:2");

    await().atMost(BOUND).until(() -> get(Deployment.class, "gamma").orElseThrow().getSpec().getTemplate().getSpec()
        .getContainers().get(0).getImage().equals("registry.example.com/tasks:2"));
  }

  @Test
  void aRolloutOnTheEmbeddedStoreKeepsTheClaimThatHoldsTheTasks() {
    TaskService created = client.resource(TestTaskServices.withTimeout(NAMESPACE, "eta", "2s")).create();
    PersistentVolumeClaim claim = await().atMost(BOUND).until(() -> get(PersistentVolumeClaim.class, "eta-data"),
        Optional::isPresent).get();
    assertThat(claim.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(owner -> assertThat(owner.getUid()).isEqualTo(created.getMetadata().getUid()));
    Deployment before = await().atMost(BOUND).until(() -> get(Deployment.class, "eta"), Optional::isPresent).get();
    assertThat(before.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(claimOf(before)).isEqualTo("eta-data");

    edit("eta", ts -> ts.getSpec().image = "registry.example.com/tasks:2");

    Deployment after = await().atMost(BOUND).until(() -> get(Deployment.class, "eta").orElseThrow(),
        d -> d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage().endsWith("tasks:2"));
    assertThat(after.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(claimOf(after)).as("the new pod opens the same store").isEqualTo("eta-data");
    assertThat(get(PersistentVolumeClaim.class, "eta-data").orElseThrow().getMetadata().getUid())
        .as("the claim is never re-made").isEqualTo(claim.getMetadata().getUid());
  }

  private static String claimOf(Deployment deployment) {
    return deployment.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getPersistentVolumeClaim() != null).map(v -> v.getPersistentVolumeClaim().getClaimName())
        .findFirst().orElse(null);
  }

  @Test
  void readyPodsMakeTheTaskServiceReady() {
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "delta", "2s")).create();
    await().atMost(BOUND).until(() -> get(Deployment.class, "delta"), Optional::isPresent);

    reportReady("delta");

    TaskService ready = await().atMost(BOUND).until(() -> taskService("delta"),
        ts -> ts.getStatus() != null && "True".equals(condition(ts, "Ready").getStatus()));
    assertThat(ready.getStatus().ready).isEqualTo("1/1");
    assertThat(condition(ready, "Progressing").getStatus()).isEqualTo("False");
  }

  @Test
  void severalReplicasOnTheEmbeddedStoreIsDegradedAndNothingIsBuilt() {
    TaskService invalid = TestTaskServices.withTimeout(NAMESPACE, "epsilon", "2s");
    invalid.getSpec().replicas = 3;
    client.resource(invalid).create();

    TaskService degraded = await().atMost(BOUND).until(() -> taskService("epsilon"),
        ts -> ts.getStatus() != null && !ts.getStatus().conditions.isEmpty());
    Condition condition = condition(degraded, "Degraded");
    assertThat(condition.getStatus()).isEqualTo("True");
    assertThat(condition.getReason()).isEqualTo("EmbeddedStoreWithReplicas");
    assertThat(condition.getMessage()).contains("spec.database.postgresUrlSecret");
    assertThat(get(Deployment.class, "epsilon")).isEmpty();
    assertThat(get(ConfigMap.class, "epsilon-proxy")).isEmpty();
  }

  @Test
  void severalReplicasOnPostgresGetADisruptionBudget() {
    TaskService replicated = TestTaskServices.withTimeout(NAMESPACE, "zeta", "2s");
    replicated.getSpec().replicas = 3;
    replicated.getSpec().database = new DatabaseSpec();
    replicated.getSpec().database.postgresUrlSecret = new SecretKeySelector("url", "zeta-db", false);
    client.resource(replicated).create();

    PodDisruptionBudget budget = await().atMost(BOUND).until(() -> get(PodDisruptionBudget.class, "zeta"),
        Optional::isPresent).get();
    assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    Deployment deployment = await().atMost(BOUND).until(() -> get(Deployment.class, "zeta"), Optional::isPresent).get();
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> Optional<T> get(Class<T> kind, String name) {
    return Optional.ofNullable(client.resources(kind).inNamespace(NAMESPACE).withName(name).get());
  }

  /** A user's edit; retried on a conflict, since the operator writes the same object's status concurrently. */
  private static void edit(String name, java.util.function.Consumer<TaskService> change) {
    await().atMost(BOUND).ignoreExceptions().until(() -> {
      client.resources(TaskService.class).inNamespace(NAMESPACE).withName(name).edit(ts -> {
        change.accept(ts);
        return ts;
      });
      return true;
    });
  }

  private static TaskService taskService(String name) {
    return client.resources(TaskService.class).inNamespace(NAMESPACE).withName(name).get();
  }

  private static Condition condition(TaskService service, String type) {
    return service.getStatus().conditions.stream().filter(c -> c.getType().equals(type)).findFirst()
        .orElseThrow(() -> new AssertionError("no condition " + type));
  }
}
