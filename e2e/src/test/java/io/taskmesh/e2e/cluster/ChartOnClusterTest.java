package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The chart installed as users install it, then the example TaskService: it becomes Ready with every sidecar on the current config. */
class ChartOnClusterTest {
  private static ClusterFixture fixture;

  @BeforeAll
  static void install() throws Exception {
    fixture = ClusterFixture.start("tmchart", false);
    TaskmeshInstall.installChart(fixture.api(), ClusterFixture.REPO);
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void theExampleTaskServiceBecomesReadyWithEverySidecarOnTheCurrentConfig() {
    await("operator pod ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      List<Pod> pods = fixture.api().pods().inNamespace(TaskmeshInstall.NAMESPACE).list().getItems();
      assertThat(pods.stream().anyMatch(ClusterFixture::ready)).as("operator pods: %s", ClusterFixture.describe(pods))
          .isTrue();
    });
    TaskmeshInstall.applyExample(fixture.api(), ClusterFixture.REPO);
    await("TaskService ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      GenericKubernetesResource taskService = fixture.taskService("default", "task-service");
      @SuppressWarnings("unchecked")
      Map<String, Object> status = (Map<String, Object>) taskService.getAdditionalProperties().get("status");
      assertThat(status).as("status of %s", taskService.getMetadata().getName()).isNotNull();
      assertThat(status.get("ready")).isEqualTo("1/1");
      assertThat(status.get("configApplied")).isEqualTo("1/1");
    });
    List<Pod> pods = fixture.api().pods().inNamespace("default").withLabel("app.kubernetes.io/name", "task-service")
        .list().getItems();
    assertThat(pods).hasSize(1);
    assertThat(pods.get(0).getStatus().getPodIP()).startsWith("10.213.");
    assertThat(pods.get(0).getMetadata().getLabels()).containsKey("pod-template-hash");
  }
}
