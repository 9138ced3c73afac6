package io.taskmesh.operator;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two operator replicas, built as Main builds them, against one mock API server: the Lease holder alone
 * reconciles, and when it stops the other takes the Lease and reconciles what comes next. The lease is
 * shortened so that takeover does not wait for JOSDK's 15 s default.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderElectionOnMockServerTest {
  private static final String NAMESPACE = "team";
  private static final String OPERATOR_NAMESPACE = "taskmesh-system";
  private static final Duration BOUND = Duration.ofSeconds(90);

  static KubernetesClient client;
  static KubernetesMockServer server;
  private final Map<String, Replica> replicas = new ConcurrentHashMap<>();

  /** One replica: its own client (JOSDK closes it on stop) and the TaskServices it reconciled. */
  private record Replica(Operator operator, Set<String> reconciled) {}

  @BeforeEach
  void answerTheLeaseAccessCheck() {
    LeaseAccess.answerAccessReviews(server);
  }

  @AfterEach
  void stopReplicas() {
    replicas.values().forEach(replica -> replica.operator().stop());
  }

  @Test
  void onlyTheLeaseHolderReconcilesAndTheOtherTakesOverWhenItStops() {
    start("operator-a");
    start("operator-b");
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "first", "2s")).create();

    String leader = await().atMost(BOUND).until(this::holder, holder -> replicas.containsKey(holder));
    await().atMost(BOUND).until(() -> replicas.get(leader).reconciled().contains("first"));
    String follower = leader.equals("operator-a") ? "operator-b" : "operator-a";
    assertThat(replicas.get(follower).reconciled()).as("the follower reconciles nothing").isEmpty();
    assertThat(replicas.get(follower).operator().getRuntimeInfo().allEventSourcesAreHealthy())
        .as("a follower is ready (its /ready answers 200), so it keeps serving discovery and the webhook").isTrue();

    replicas.remove(leader).operator().stop();
    await().atMost(BOUND).until(this::holder, follower::equals);
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "second", "2s")).create();

    await().atMost(BOUND).until(() -> replicas.get(follower).reconciled().contains("second"));
    await().atMost(BOUND).until(() -> client.apps().deployments().inNamespace(NAMESPACE).withName("second").get() != null);
  }

  private void start(String identity) {
    Set<String> reconciled = ConcurrentHashMap.newKeySet();
    KubernetesClient own = new KubernetesClientBuilder().withConfig(client.getConfiguration()).build();
    Operator operator = Operators.create(own, Operators.leaderElection(OPERATOR_NAMESPACE, identity)
        .withLeaseDuration(Duration.ofSeconds(4))
        .withRenewDeadline(Duration.ofSeconds(3))
        .withRetryPeriod(Duration.ofMillis(500))
        .withExitOnStopLeading(false)
        .build(), new SimpleMeterRegistry());
    // the census is asked during every reconcile of a valid TaskService: it tells which replica reconciled
    operator.register(new TaskServiceReconciler(TestTaskServices.SETTINGS, Clock.systemUTC(), (namespace, service) -> {
      reconciled.add(service);
      return Map.of();
    }, new EventRecorder(Clock.systemUTC(), identity)));
    operator.start();
    replicas.put(identity, new Replica(operator, reconciled));
  }

  private String holder() {
    Lease lease = client.leases().inNamespace(OPERATOR_NAMESPACE).withName(Operators.LEASE_NAME).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }
}
