package io.taskmesh.operator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.reconciler.EventRecorder;
import static io.taskmesh.operator.TestTaskServices.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.operator.discovery.PodAcks;
import io.taskmesh.operator.reconciler.SidecarCensus;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * "Applied to N/N" with two operator replicas: each serves discovery, one reconciles. The two sidecars of a
 * TaskService hold their streams on different replicas, and re-announce their config hash on it after each
 * reload, as the proxy does; the census the leader writes into status must count both, after each change.
 */
@EnableKubernetesMockClient(crud = true)
class ConfigAckCensusTest {
  private static final String NAMESPACE = "shop";
  private static final Duration BOUND = Duration.ofSeconds(90);

  KubernetesClient client;
  private Operator leader;
  private final List<AutoCloseable> replicas = new java.util.ArrayList<>();

  @BeforeEach
  void startTwoReplicas() {
    leader = Operators.create(client, null, new SimpleMeterRegistry());
    // no periodic refresh within the test: each count on status must come from the pod's ack event
    leader.register(new TaskServiceReconciler(SETTINGS, Clock.systemUTC(), SidecarCensus.fromPods(client),
        new EventRecorder(Clock.systemUTC(), "test"), Duration.ofHours(1)));
    leader.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable replica : replicas) {
      replica.close();
    }
    leader.stop();
  }

  @Test
  void aMeshChangedTwiceReachesAllSidecarsAfterEachWithTwoReplicas() {
    DiscoveryServer replicaA = replica();
    DiscoveryServer replicaB = replica();
    TaskService service = TestTaskServices.withTimeout(NAMESPACE, "census", "2s");
    service.getSpec().replicas = 2;
    service.getSpec().database = new io.taskmesh.operator.api.DatabaseSpec();
    service.getSpec().database.postgresUrlSecret = new io.fabric8.kubernetes.api.model.SecretKeySelector("url", "db", false);
    client.resource(service).create();
    for (String pod : List.of("census-0", "census-1")) {
      client.resource(new PodBuilder().withNewMetadata().withName(pod).withNamespace(NAMESPACE)
          .addToLabels("taskmesh.io/service", "census").addToLabels("app.kubernetes.io/managed-by", "taskmesh-operator")
          .endMetadata()
          .withNewSpec().addNewContainer().withName("app").withImage("tasks").endContainer().endSpec().build()).create();
    }
    String hash = configHash(null);
    DiscoveryClientFixture sidecar0 = closeLater(new DiscoveryClientFixture(replicaA.port(), announce("census-0", hash)));
    DiscoveryClientFixture sidecar1 = closeLater(new DiscoveryClientFixture(replicaB.port(), announce("census-1", hash)));
    awaitApplied(hash);

    for (String timeout : List.of("3s", "4s")) {
      edit(ts -> ts.getSpec().mesh.timeout = timeout);
      String before = hash;
      hash = configHash(before);
      String next = hash;
      await("no sidecar has reloaded yet").atMost(BOUND)
          .until(() -> next.equals(statusOf().configHash) && "0/2".equals(statusOf().configApplied));

      sidecar0.send(announce("census-0", hash));
      await().atMost(BOUND).until(() -> next.equals(statusOf().configHash) && "1/2".equals(statusOf().configApplied));
      sidecar1.send(announce("census-1", hash));
      awaitApplied(hash);
    }
  }

  private void awaitApplied(String hash) {
    await().atMost(BOUND).until(() -> hash.equals(statusOf().configHash) && "2/2".equals(statusOf().configApplied));
  }

  private DiscoveryServer replica() {
    PodAcks acks = closeLater(new PodAcks(client));
    return closeLater(DiscoveryServer.start("127.0.0.1", 0, new EndpointRegistry(), new RouteTables(), acks));
  }

  private static SubscribeRequest announce(String pod, String hash) {
    return SubscribeRequest.newBuilder().setNode(Node.newBuilder().setPodName(pod).setNamespace(NAMESPACE)
        .setService("census").setConfigHash(hash)).build();
  }

  /** The ConfigMap's hash once it differs from {@code previous}: what the sidecars reload. */
  private String configHash(String previous) {
    return await().atMost(BOUND).until(() -> {
      ConfigMap configMap = client.configMaps().inNamespace(NAMESPACE).withName("census-proxy").get();
      return configMap == null ? null : configMap.getMetadata().getAnnotations().get("taskmesh.io/config-hash");
    }, h -> h != null && !h.equals(previous));
  }

  private io.taskmesh.operator.api.TaskServiceStatus statusOf() {
    TaskService current = client.resources(TaskService.class).inNamespace(NAMESPACE).withName("census").get();
    return current.getStatus() == null ? new io.taskmesh.operator.api.TaskServiceStatus() : current.getStatus();
  }

  private void edit(java.util.function.Consumer<TaskService> change) {
    await().atMost(BOUND).ignoreExceptions().until(() -> {
      TaskService current = client.resources(TaskService.class).inNamespace(NAMESPACE).withName("census").get();
      change.accept(current);
      client.resource(current).update();
      return true;
    });
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    replicas.add(0, resource);
    return resource;
  }
}
