package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.taskmesh.operator.reconciler.SidecarCensus;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The operator's caches of what it owns hold only what it labelled: every list and watch it sends for an
 * owned kind selects on {@code app.kubernetes.io/managed-by=taskmesh-operator}, so the API server (here the
 * mock, which applies label selectors in CRUD mode) never sends it the cluster's other objects.
 */
@EnableKubernetesMockClient(crud = true)
class OwnedInformersTest {
  private static final Set<String> OWNED = Set.of("configmaps", "services", "serviceaccounts", "deployments",
      "poddisruptionbudgets", "persistentvolumeclaims", "pods");

  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void everyListAndWatchOfAnOwnedKindSelectsTheOperatorsLabel() throws Exception {
    Operator operator = Operators.create(client, null, new SimpleMeterRegistry());
    operator.register(new TaskServiceReconciler(TestTaskServices.SETTINGS, Clock.systemUTC(), SidecarCensus.none(),
        new EventRecorder(Clock.systemUTC(), "test")));
    operator.start();
    try {
      client.resource(TestTaskServices.withTimeout("cache", "tasks", "2s")).create();
      await().atMost(Duration.ofSeconds(60))
          .until(() -> client.apps().deployments().inNamespace("cache").withName("tasks").get() != null);
    } finally {
      operator.stop();
    }

    List<String> reads = new ArrayList<>();
    RecordedRequest request;
    while ((request = server.takeRequest(1, TimeUnit.SECONDS)) != null) {
      RequestAudit.Call call = RequestAudit.toCall(request.getMethod(), request.getPath());
      if (call != null && OWNED.contains(call.resource()) && Set.of("list", "watch").contains(call.verb())) {
        reads.add(URLDecoder.decode(request.getPath(), StandardCharsets.UTF_8));
      }
    }
    assertThat(reads).as("the operator's lists and watches of owned kinds").hasSizeGreaterThanOrEqualTo(OWNED.size())
        .allSatisfy(path -> assertThat(path).contains("labelSelector=app.kubernetes.io/managed-by=taskmesh-operator"));
  }
}
