package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The chart installed as users install it, then the example TaskService, on the local cluster: the operator
 * runs as a pod, the TaskService becomes Ready with every sidecar on the current config, and a pod that asks
 * for injection gets the sidecar from the webhook, which the API server calls over HTTPS.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the install's first state first, the config change last
class ChartOnClusterTest {
  private static ClusterFixture fixture;

  @BeforeAll
  static void install() throws Exception {
    fixture = ClusterFixture.start("tmchart", false);
    TaskmeshInstall.installChart(fixture.api(), ClusterFixture.REPO);
    await("operator pod ready").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      List<Pod> pods = fixture.api().pods().inNamespace(TaskmeshInstall.NAMESPACE).list().getItems();
      assertThat(pods.stream().anyMatch(ClusterFixture::ready)).as("operator pods: %s", ClusterFixture.describe(pods))
          .isTrue();
    });
    TaskmeshInstall.applyExample(fixture.api(), ClusterFixture.REPO);
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  @Order(1)
  void theExampleTaskServiceBecomesReadyWithEverySidecarOnTheCurrentConfig() throws Exception {
    await("TaskService ready").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      GenericKubernetesResource taskService = fixture.taskService("default", "task-service");
      @SuppressWarnings("unchecked")
      Map<String, Object> status = (Map<String, Object>) taskService.getAdditionalProperties().get("status");
      List<Pod> pods = fixture.api().pods().inNamespace("default").list().getItems();
      assertThat(status).as("status; pods: %s", ClusterFixture.describe(pods)).isNotNull();
      assertThat(status.get("ready")).as("ready; pods: %s", ClusterFixture.describe(pods)).isEqualTo("1/1");
      assertThat(status.get("configApplied")).as("configApplied; pods: %s", ClusterFixture.describe(pods))
          .isEqualTo("1/1");
    });
    List<Pod> pods = fixture.api().pods().inNamespace("default").withLabel("app.kubernetes.io/name", "task-service")
        .list().getItems();
    assertThat(pods).hasSize(1);
    assertThat(pods.get(0).getStatus().getPodIP()).startsWith("10.213.");
    assertThat(pods.get(0).getMetadata().getLabels()).containsKey("pod-template-hash");
    // the injected sidecar started as from the shipped image: its JVM maps the image's class-data archive
    long proxy = fixture.cluster.kubelet().pid("default", pods.get(0).getMetadata().getName(), "taskmesh-proxy")
        .orElseThrow();
    assertThat(Files.readString(Path.of("/proc/" + proxy + "/maps"))).contains("taskmesh-proxy.jsa");
  }

  @Test
  @Order(3)
  void aKilledPodIsReplacedAndTheEndpointSliceFollows() {
    await("a ready task-service pod").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() ->
        taskServicePods().stream().anyMatch(ClusterFixture::ready));
    Pod victim = taskServicePods().get(0);
    fixture.api().pods().inNamespace("default").withName(victim.getMetadata().getName()).delete();
    await("a replacement, ready, alone in the EndpointSlice").atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
          List<Pod> pods = taskServicePods();
          assertThat(pods).as("task-service pods: %s", ClusterFixture.describe(pods)).hasSize(1)
              .allSatisfy(pod -> assertThat(ClusterFixture.ready(pod)).isTrue())
              .noneSatisfy(pod -> assertThat(pod.getMetadata().getUid()).isEqualTo(victim.getMetadata().getUid()));
          List<String> addresses = fixture.api().discovery().v1().endpointSlices().inNamespace("default")
              .withLabel("kubernetes.io/service-name", "task-service").list().getItems().stream()
              .flatMap(slice -> slice.getEndpoints().stream())
              .filter(endpoint -> Boolean.TRUE.equals(endpoint.getConditions().getReady()))
              .flatMap(endpoint -> endpoint.getAddresses().stream()).toList();
          assertThat(addresses).containsExactly(pods.get(0).getStatus().getPodIP());
        });
  }

  @Test
  @Order(4)
  void aMeshChangeReachesEverySidecarWithoutRestartingPods() {
    await("TaskService ready").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
        .until(() -> "1/1".equals(status().get("configApplied")));
    String hashBefore = (String) status().get("configHash");
    Map<String, Integer> restartsBefore = restarts();
    fixture.api().genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION, "TaskService")
        .inNamespace("default").withName("task-service").edit(taskService -> {
          @SuppressWarnings("unchecked")
          Map<String, Object> mesh = (Map<String, Object>) ((Map<String, Object>) taskService.getAdditionalProperties()
              .get("spec")).get("mesh");
          mesh.put("timeout", "4s");
          return taskService;
        });
    await("the new config applied on every sidecar").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> {
          Map<String, Object> status = status();
          assertThat(status.get("configHash")).isNotEqualTo(hashBefore);
          assertThat(status.get("configApplied")).as("status %s", status).isEqualTo("1/1");
        });
    assertThat(restarts()).as("pods and their restart counts").isEqualTo(restartsBefore);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> status() {
    Map<String, Object> status = (Map<String, Object>) fixture.taskService("default", "task-service")
        .getAdditionalProperties().get("status");
    return status == null ? Map.of() : status;
  }

  /** Pod uid → restarts of all its containers: a reload must change neither. */
  private static Map<String, Integer> restarts() {
    return taskServicePods().stream().collect(java.util.stream.Collectors.toMap(pod -> pod.getMetadata().getUid(),
        pod -> java.util.stream.Stream.concat(
                java.util.stream.Stream.ofNullable(pod.getStatus().getInitContainerStatuses()).flatMap(List::stream),
                java.util.stream.Stream.ofNullable(pod.getStatus().getContainerStatuses()).flatMap(List::stream))
            .mapToInt(status -> status.getRestartCount() == null ? 0 : status.getRestartCount()).sum()));
  }

  private static List<Pod> taskServicePods() {
    return fixture.api().pods().inNamespace("default").withLabel("app.kubernetes.io/name", "task-service").list()
        .getItems().stream().filter(pod -> pod.getMetadata().getDeletionTimestamp() == null).toList();
  }

  @Test
  @Order(2)
  void aPodAskingForInjectionGetsTheSidecarFromTheWebhookOverHttps() {
    await("the example's proxy ConfigMap").atMost(Duration.ofMinutes(2)).until(() ->
        fixture.api().configMaps().inNamespace("default").withName("task-service-proxy").get() != null);
    try {
      Pod injected = fixture.createInjected(pod("injected", Map.of("taskmesh.io/service", "task-service",
          "taskmesh.io/app-port", "50051")));
      Container proxy = injected.getSpec().getInitContainers().stream()
          .filter(c -> c.getName().equals("taskmesh-proxy")).findFirst().orElseThrow();
      assertThat(proxy.getRestartPolicy()).isEqualTo("Always");
      assertThat(injected.getMetadata().getAnnotations()).containsKey("taskmesh.io/injected");

      // a denial is not a failure: failurePolicy Ignore does not let a pod the webhook refuses through
      await("the webhook's refusal").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
          .untilAsserted(() -> assertThatThrownBy(() -> fixture.createOrRemove(pod("half-meshed",
              Map.of("taskmesh.io/service", "task-service", "taskmesh.io/app-port", "8080"))))
              .isInstanceOf(KubernetesClientException.class)
              .hasMessageContaining("denied the request").hasMessageContaining("does not match inbound.appPort"));
    } finally {
      fixture.api().pods().inNamespace("default").withName("injected").withGracePeriod(0).delete();
      fixture.api().pods().inNamespace("default").withName("half-meshed").withGracePeriod(0).delete();
    }
  }

  private static Pod pod(String name, Map<String, String> annotations) {
    // outside namespaces labelled for injection, the webhook's objectSelector sends it only pods with this label
    return new PodBuilder().withNewMetadata().withName(name).addToLabels("taskmesh.io/inject", "true")
        .withAnnotations(annotations).endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("taskmesh/task-service:0.1.0-SNAPSHOT")
        .endContainer().endSpec().build();
  }
}
