package io.taskmesh.e2e.cluster.controllers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.taskmesh.e2e.cluster.apiserver.ApiServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The deployment controller's rolling update, watched at every step: never more pods than replicas + maxSurge,
 * never fewer ready than replicas - maxUnavailable, every pod of the new template in the end; deleted pods are
 * replaced and owned objects collected. Pods here are marked Ready by a stand-in for the kubelet (a pod is
 * "running" 300 ms after it is created), so this runs without root; the cluster tests run real pods.
 */
class RollingUpdateTest {
  private ApiServer server;
  private ControllerManager controllers;
  private KubernetesClient api;
  private final ScheduledExecutorService node = Executors.newSingleThreadScheduledExecutor();
  private final Set<String> seen = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start() {
    server = ApiServer.start(List.of(InetAddress.getLoopbackAddress()), 0, "10.213.251.0/24");
    api = server.client();
    controllers = new ControllerManager(api, server.caPem());
    controllers.start();
    node.scheduleWithFixedDelay(this::standInKubelet, 100, 100, TimeUnit.MILLISECONDS);
  }

  @AfterEach
  void stop() {
    node.shutdownNow();
    controllers.close();
    server.close();
  }

  /** Ready 300 ms after creation; a pod being deleted gracefully is removed, as a kubelet does once it stopped. */
  private void standInKubelet() {
    try {
      for (Pod pod : api.pods().inNamespace("default").list().getItems()) {
        String name = pod.getMetadata().getName();
        if (pod.getMetadata().getDeletionTimestamp() != null) {
          api.pods().inNamespace("default").withName(name).withGracePeriod(0).delete();
        } else if (seen.add(name)) {
          node.schedule(() -> markReady(name), 300, TimeUnit.MILLISECONDS);
        }
      }
    } catch (KubernetesClientException e) {
      // the next pass sees it
    }
  }

  private void markReady(String name) {
    try {
      api.pods().inNamespace("default").withName(name).editStatus(pod -> {
        pod.getStatus().setPhase("Running");
        pod.getStatus().setPodIP("10.213.250." + (Math.abs(name.hashCode()) % 250 + 2));
        pod.getStatus().setConditions(List.of(new PodConditionBuilder().withType("Ready").withStatus("True").build()));
        return pod;
      });
    } catch (KubernetesClientException e) {
      // deleted meanwhile
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Deployment deployment(String version, int replicas) {
    return new DeploymentBuilder().withNewMetadata().withName("web").withNamespace("default").endMetadata()
        .withNewSpec().withReplicas(replicas).withNewSelector().addToMatchLabels("app", "web").endSelector()
        .withNewStrategy().withType("RollingUpdate").withNewRollingUpdate().withMaxSurge(new IntOrString(1))
        .withMaxUnavailable(new IntOrString(0)).endRollingUpdate().endStrategy()
        .withNewTemplate().withNewMetadata().addToLabels("app", "web").endMetadata().withNewSpec().addNewContainer()
        .withName("app").withImage("web:" + version).endContainer().endSpec().endTemplate().endSpec().build();
  }

  private List<Pod> livePods() {
    return api.pods().inNamespace("default").withLabel("app", "web").list().getItems().stream()
        .filter(pod -> pod.getMetadata().getDeletionTimestamp() == null).toList();
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions()
        .stream().anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  @Test
  void aNewTemplateRollsOutWithinMaxSurgeAndMaxUnavailable() {
    api.resource(deployment("1", 3)).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> livePods().stream().filter(RollingUpdateTest::ready).count() == 3);
    String oldHash = livePods().get(0).getMetadata().getLabels().get("pod-template-hash");
    api.apps().deployments().inNamespace("default").withName("web")
        .edit(d -> new DeploymentBuilder(d).editSpec().editTemplate().editSpec().editFirstContainer()
            .withImage("web:2").endContainer().endSpec().endTemplate().endSpec().build());
    long giveUp = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    boolean done = false;
    while (!done && System.nanoTime() < giveUp) {
      List<Pod> pods = livePods();
      assertThat(pods.size()).as("pods during the rollout").isLessThanOrEqualTo(3 + 1);
      assertThat(pods.stream().filter(RollingUpdateTest::ready).count()).as("ready pods during the rollout")
          .isGreaterThanOrEqualTo(3 - 0);
      done = pods.size() == 3 && pods.stream().allMatch(RollingUpdateTest::ready)
          && pods.stream().noneMatch(pod -> oldHash.equals(pod.getMetadata().getLabels().get("pod-template-hash")));
      pause();
    }
    assertThat(done).as("every pod runs the new template").isTrue();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
        api.apps().deployments().inNamespace("default").withName("web").get().getStatus().getUpdatedReplicas()).isEqualTo(3));
    assertThat(api.apps().replicaSets().inNamespace("default").list().getItems()).hasSize(2);
  }

  @Test
  void aDeletedPodIsReplacedAndDeletingTheDeploymentCollectsItsReplicaSetsAndPods() {
    api.resource(deployment("1", 2)).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> livePods().stream().filter(RollingUpdateTest::ready).count() == 2);
    String victim = livePods().get(0).getMetadata().getName();
    api.pods().inNamespace("default").withName(victim).delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      List<Pod> pods = livePods();
      return pods.size() == 2 && pods.stream().allMatch(RollingUpdateTest::ready)
          && pods.stream().noneMatch(pod -> pod.getMetadata().getName().equals(victim));
    });
    api.apps().deployments().inNamespace("default").withName("web").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> api.apps().replicaSets().inNamespace("default").list()
        .getItems().isEmpty() && api.pods().inNamespace("default").list().getItems().isEmpty());
  }
}
