package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.taskmesh.e2e.cluster.install.ChartInstall;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import io.taskmesh.e2e.local.MeshMetrics;
import io.taskmesh.e2e.zipkin.Span;
import io.taskmesh.e2e.zipkin.ZipkinQuery;
import io.taskmesh.taskservice.client.TaskClient;
import io.taskmesh.taskservice.api.ListTasksRequest;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Traffic on the local cluster, as a user's app makes it: an injected client pod whose app is a plain gRPC client
 * of {@code task-service:50051} (it knows nothing of the mesh) calls a TaskService of two replicas on the
 * cluster's external PostgreSQL, without pause, while the cluster changes underneath it - a pod killed, a rolling
 * update, the operator's leader killed. Not one call may fail. The chart runs with two operator replicas.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the traffic's first path first, then one disruption after another
class TrafficOnClusterTest {
  private static final String SERVICE = "task-service";
  private static final String CLIENT = "task-client";
  private static final Duration LONG = Duration.ofMinutes(4);
  private static ClusterFixture fixture;
  private static ExternalServices.Postgres postgres;
  /** Where the client's log stood when the running test began: each test answers for its own calls only. */
  private long failedBefore;
  private int logBefore;

  @BeforeAll
  static void install() throws Exception {
    fixture = ClusterFixture.start("tmtraffic", true);
    postgres = fixture.cluster.externalServices().postgres();
    ChartInstall.install(fixture.api(), ClusterFixture.REPO.resolve("helm/taskmesh"), TaskmeshInstall.RELEASE,
        TaskmeshInstall.NAMESPACE, Map.of("operator.replicas", "2"));
    fixture.api().secrets().resource(postgres.urlSecret("default", "task-service-db")).create();
    ChartInstall.apply(fixture.api(), """
        apiVersion: taskmesh.io/v1alpha1
        kind: TaskService
        metadata: {name: task-service}
        spec:
          replicas: 2
          port: 50051
          database: {postgresUrlSecret: {name: task-service-db, key: url}}
          mesh:
            tracing: {exporter: zipkin, endpoint: "http://zipkin:9411", samplingRatio: 1.0}
        """, "default");
    // the client's sidecar config: what a user writes for a workload of their own (here: where traces go); the
    // app itself has none
    fixture.api().configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
        .withName(CLIENT + "-proxy").endMetadata().withData(Map.of("proxy.yaml", """
            service: task-client
            namespace: default
            outbound:
              discovery: {address: "taskmesh-operator.taskmesh-system.svc:15010"}
            identity: {mode: permissive, trustDomain: cluster.local, issuer: "taskmesh-operator.taskmesh-system.svc:15012"}
            tracing: {exporter: zipkin, endpoint: "http://zipkin.default.svc.cluster.local:9411", samplingRatio: 1.0}
            """)).build()).create();
    // the client starts once the service is up, as a user would start it: calls before that fail (no endpoints)
    await("TaskService ready 2/2 on its config").atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      Map<String, Object> status = fixture.status("default", SERVICE);
      assertThat(status.get("ready")).as("status %s; pods %s", status, describePods()).isEqualTo("2/2");
      assertThat(status.get("configApplied")).as("status %s; pods %s", status, describePods()).isEqualTo("2/2");
      assertThat(readyEndpoints()).hasSize(2);
    });
    fixture.createInjected(new PodBuilder().withNewMetadata().withName(CLIENT)
        .addToLabels("taskmesh.io/inject", "true").addToLabels("app.kubernetes.io/name", CLIENT).endMetadata()
        .withNewSpec().withRestartPolicy("Never").addNewContainer().withName("app")
        .withImage("taskmesh/task-service:0.1.0-SNAPSHOT")
        // as a user runs a tool of the image by hand (see e2e/kind/run.sh): java with the image's classpath
        .withCommand("sh", "-c", "exec java -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
            + " -cp \"$(cat /app/jib-classpath-file)\" io.taskmesh.e2e.cluster.CallLoop --target task-service:50051"
            + " --max-duration PT15M")
        .endContainer().endSpec().build());
    await("the client calling").atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
        assertThat(totals().ok()).as("client log:\n%s", clientLog()).isGreaterThan(0));
  }

  @BeforeEach
  void markTheClientsLog() {
    String log = clientLog();
    failedBefore = CallLoop.Totals.last(log).failed();
    logBefore = log.length();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  @Order(1)
  void aPlainClientInAnInjectedPodCallsThroughBothSidecarsAndThePostgresTrafficIsForwardedOpaque() throws Exception {
    URI client = admin(pod(CLIENT));
    List<URI> servers = servicePods().stream().map(TrafficOnClusterTest::admin).toList();
    double clientCalls = MeshMetrics.sum(client, "taskmesh_requests_total", "direction=\"outbound\"",
        "service=\"task-service\"", "CreateTask");
    double serverCalls = inboundCreates(servers);
    awaitCalls(20);
    await("both sidecars count the calls").atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      assertThat(MeshMetrics.sum(client, "taskmesh_requests_total", "direction=\"outbound\"",
          "service=\"task-service\"", "CreateTask")).as("client sidecar's outbound CreateTask").isGreaterThan(clientCalls);
      assertThat(inboundCreates(servers)).as("server sidecars' inbound CreateTask").isGreaterThan(serverCalls);
    });

    ZipkinQuery zipkin = new ZipkinQuery(fixture.cluster.zipkin().orElseThrow());
    await("one trace with a span of each hop").atMost(LONG).pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
        assertThat(zipkin.traces(CLIENT, 20)).as("traces of task-client").anySatisfy(trace -> {
          Span out = trace.stream().filter(span -> span.serviceName().equals(CLIENT) && "CLIENT".equals(span.kind()))
              .findFirst().orElseThrow(() -> new AssertionError("no client-sidecar span in " + trace));
          assertThat(trace).as("a server-sidecar span under %s", out.id()).anySatisfy(span -> {
            assertThat(span.serviceName()).isEqualTo(SERVICE);
            assertThat(span.kind()).isEqualTo("SERVER");
          });
        }));

    // the app's JDBC connections to postgres:5432 went through its sidecar, byte for byte
    assertThat(servers).allSatisfy(server -> assertThat(MeshMetrics.sum(server, "taskmesh_tcp_connections_total",
        "direction=\"outbound\"", "port=\"5432\"", "result=\"forwarded\"")).as("JDBC connections forwarded by %s", server)
        .isGreaterThan(0));
    assertThat(servers).allSatisfy(server -> assertThat(MeshMetrics.sum(server, "taskmesh_tcp_received_bytes_total",
        "direction=\"outbound\"", "port=\"5432\"")).as("bytes from PostgreSQL through %s", server).isGreaterThan(0));
    try (Connection connection = DriverManager.getConnection(postgres.hostJdbcUrl());
        ResultSet count = connection.createStatement().executeQuery(
            "SELECT count(*) FROM tasks WHERE title LIKE 'call-loop %'")) {
      count.next();
      assertThat(count.getLong(1)).as("the client's tasks, in the PostgreSQL outside the cluster").isGreaterThan(10);
    }
    assertNoFailedCall();
  }

  @Test
  @Order(2)
  void aKilledPodIsReplacedAndLeavesTheEndpointSliceWithoutAFailedCall() {
    Pod victim = servicePods().get(0);
    fixture.api().pods().inNamespace("default").withName(victim.getMetadata().getName()).delete();
    await("a replacement, ready, and the EndpointSlice listing exactly the ready pods").atMost(LONG)
        .pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
          List<Pod> pods = servicePods();
          assertThat(pods).as("pods: %s", ClusterFixture.describe(pods)).hasSize(2)
              .allSatisfy(pod -> assertThat(ClusterFixture.ready(pod)).isTrue())
              .noneSatisfy(pod -> assertThat(pod.getMetadata().getUid()).isEqualTo(victim.getMetadata().getUid()));
          assertThat(readyEndpoints()).containsExactlyInAnyOrderElementsOf(
              pods.stream().map(pod -> pod.getStatus().getPodIP()).toList());
        });
    awaitCalls(20);
    assertNoFailedCall();
  }

  @Test
  @Order(3)
  void aRollingUpdateReplacesEveryPodWithoutAFailedCall() {
    Set<String> before = servicePods().stream().map(pod -> pod.getMetadata().getUid()).collect(Collectors.toSet());
    editSpec(spec -> spec.put("env", List.of(Map.of("name", "TASKS_ROLLOUT", "value", "2"))));
    await("every pod replaced, on the new template, ready").atMost(LONG).pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> {
          List<Pod> pods = servicePods();
          assertThat(pods).as("pods: %s", ClusterFixture.describe(pods)).hasSize(2)
              .allSatisfy(pod -> assertThat(ClusterFixture.ready(pod)).isTrue())
              .allSatisfy(pod -> assertThat(before).doesNotContain(pod.getMetadata().getUid()))
              .allSatisfy(pod -> assertThat(pod.getSpec().getContainers().get(0).getEnv())
                  .anySatisfy(env -> assertThat(env.getName()).isEqualTo("TASKS_ROLLOUT")));
          assertThat(readyEndpoints()).hasSize(2);
        });
    awaitCalls(20);
    assertNoFailedCall();
  }

  @Test
  @Order(4)
  void theOperatorsLeaderKilledTheLeaseMovesTrafficGoesOnAndStatusIsStillReconciled() {
    String leader = await("a leader").atMost(LONG).until(TrafficOnClusterTest::leaseHolder, holder -> holder != null);
    fixture.api().pods().inNamespace(TaskmeshInstall.NAMESPACE).withName(leader).delete();
    String next = await("the lease held by another replica").atMost(LONG).pollInterval(Duration.ofSeconds(1))
        .until(TrafficOnClusterTest::leaseHolder, holder -> holder != null && !holder.equals(leader));
    assertThat(fixture.api().pods().inNamespace(TaskmeshInstall.NAMESPACE).withName(next).get())
        .as("the new leader %s is a pod of the operator", next).isNotNull();
    awaitCalls(20);

    String hashBefore = (String) fixture.status("default", SERVICE).get("configHash");
    editSpec(spec -> {
      @SuppressWarnings("unchecked")
      Map<String, Object> mesh = (Map<String, Object>) spec.get("mesh");
      mesh.put("timeout", "4s");
    });
    await("the new leader reconciles: new config on 2/2 sidecars").atMost(LONG).pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> {
          Map<String, Object> status = fixture.status("default", SERVICE);
          assertThat(status.get("configHash")).as("status %s", status).isNotEqualTo(hashBefore);
          assertThat(status.get("configApplied")).as("status %s", status).isEqualTo("2/2");
          assertThat(status.get("ready")).as("status %s", status).isEqualTo("2/2");
        });
    awaitCalls(20);
    assertNoFailedCall();
  }

  @Test
  @Order(5)
  void aRolloutOnTheDefaultStoreKeepsEveryTask() {
    ChartInstall.apply(fixture.api(), """
        apiVersion: taskmesh.io/v1alpha1
        kind: TaskService
        metadata: {name: notes}
        spec: {port: 50051}
        """, "default");
    Pod first = await("notes ready").atMost(LONG).pollInterval(Duration.ofSeconds(1)).until(
        () -> pods("notes").stream().filter(ClusterFixture::ready).findFirst().orElse(null), pod -> pod != null);
    Deployment deployment = fixture.api().apps().deployments().inNamespace("default").withName("notes").get();
    assertThat(deployment.getSpec().getStrategy().getType()).as("one writer on the H2 claim").isEqualTo("Recreate");
    String address = fixture.api().services().inNamespace("default").withName("notes").get().getSpec().getClusterIP()
        + ":50051";
    // a ready pod reaches the Service's rules a moment later, as on a real cluster: wait for an answer to a read
    // before the writes, which are not sent twice
    await("notes answering at its Service").atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      try (TaskClient client = TaskClient.connect(address)) {
        client.list(ListTasksRequest.newBuilder().setUserId(3).build());
      }
    });
    List<Integer> ids = new ArrayList<>();
    try (TaskClient client = TaskClient.connect(address)) {
      for (int i = 0; i < 25; i++) {
        ids.add(client.create("note " + i, "", "", 3).getId());
      }
    }

    editSpec("notes", spec -> spec.put("env", List.of(Map.of("name", "NOTES_ROLLOUT", "value", "2"))));
    await("a new pod, ready, alone").atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      List<Pod> pods = pods("notes");
      assertThat(pods).as("pods %s", ClusterFixture.describe(pods)).hasSize(1)
          .allSatisfy(pod -> assertThat(ClusterFixture.ready(pod)).isTrue())
          .noneSatisfy(pod -> assertThat(pod.getMetadata().getUid()).isEqualTo(first.getMetadata().getUid()));
    });
    // the Service's rules may still lag the new pod by a moment: read until it answers, then every task
    await("every task read back").atMost(LONG).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
      try (TaskClient client = TaskClient.connect(address)) {
        for (int i = 0; i < ids.size(); i++) {
          assertThat(client.get(ids.get(i)).getTitle()).isEqualTo("note " + i);
        }
      }
    });
  }

  private static void editSpec(java.util.function.Consumer<Map<String, Object>> change) {
    editSpec(SERVICE, change);
  }

  @SuppressWarnings("unchecked")
  private static void editSpec(String name, java.util.function.Consumer<Map<String, Object>> change) {
    fixture.api().genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION, "TaskService")
        .inNamespace("default").withName(name).edit(taskService -> {
          change.accept((Map<String, Object>) taskService.getAdditionalProperties().get("spec"));
          return taskService;
        });
  }

  private static String leaseHolder() {
    Lease lease = fixture.api().leases().inNamespace(TaskmeshInstall.NAMESPACE).withName("taskmesh-operator").get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static double inboundCreates(List<URI> servers) {
    return servers.stream().mapToDouble(server -> MeshMetrics.sum(server, "taskmesh_requests_total",
        "direction=\"inbound\"", "CreateTask")).sum();
  }

  /** Waits until the client has made {@code calls} more successful calls than now. */
  private static void awaitCalls(long calls) {
    long target = totals().ok() + calls;
    await(calls + " more calls").atMost(LONG).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
        assertThat(totals().ok()).as("client log:\n%s", tail(clientLog())).isGreaterThanOrEqualTo(target));
  }

  /** No call failed since this test began. */
  private void assertNoFailedCall() {
    String log = clientLog();
    String sinceTheTestBegan = log.substring(Math.min(logBefore, log.length()));
    assertThat(CallLoop.Totals.last(log).failed() - failedBefore).as("failed calls:\n%s\nthe client sidecar's retries"
        + " and endpoints: %s", sinceTheTestBegan.lines().filter(line -> line.startsWith("call_failed"))
        .collect(Collectors.joining("\n")), clientSidecarFigures()).isZero();
    assertThat(log).as("the client still calling").doesNotContain("\ndone");
  }

  private static CallLoop.Totals totals() {
    return CallLoop.Totals.last(clientLog());
  }

  private static String clientLog() {
    Path log = fixture.cluster.kubelet().logFile("default", CLIENT, "app").orElse(null);
    try {
      return log == null || !Files.exists(log) ? "" : Files.readString(log);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  private static Map<String, Double> clientSidecarFigures() {
    URI client = admin(pod(CLIENT));
    Map<String, Double> figures = new java.util.TreeMap<>();
    for (String metric : List.of("taskmesh_retries_total", "taskmesh_retries_refused_total", "taskmesh_endpoints")) {
      MeshMetrics.samples(client, metric).forEach((labels, value) -> figures.put(metric + labels, value));
    }
    return figures;
  }

  private static String tail(String log) {
    List<String> lines = log.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
  }

  private static List<String> readyEndpoints() {
    return fixture.api().discovery().v1().endpointSlices().inNamespace("default")
        .withLabel("kubernetes.io/service-name", SERVICE).list().getItems().stream()
        .flatMap(slice -> slice.getEndpoints().stream())
        .filter(endpoint -> Boolean.TRUE.equals(endpoint.getConditions().getReady()))
        .flatMap(endpoint -> endpoint.getAddresses().stream()).toList();
  }

  private static URI admin(Pod pod) {
    return URI.create("http://" + pod.getStatus().getPodIP() + ":15000");
  }

  private static Pod pod(String name) {
    return fixture.api().pods().inNamespace("default").withName(name).get();
  }

  private static List<Pod> servicePods() {
    return pods(SERVICE);
  }

  private static List<Pod> pods(String service) {
    return fixture.api().pods().inNamespace("default").withLabel("taskmesh.io/service", service).list().getItems()
        .stream().filter(pod -> pod.getMetadata().getDeletionTimestamp() == null)
        .filter(pod -> pod.getMetadata().getOwnerReferences() != null && !pod.getMetadata().getOwnerReferences().isEmpty())
        .toList();
  }

  private static String describePods() {
    return ClusterFixture.describe(fixture.api().pods().inAnyNamespace().list().getItems());
  }
}
