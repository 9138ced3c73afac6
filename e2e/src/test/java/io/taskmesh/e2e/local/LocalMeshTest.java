package io.taskmesh.e2e.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import io.taskmesh.e2e.zipkin.Span;
import io.taskmesh.e2e.zipkin.ZipkinQuery;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The local mesh as a user runs it (real processes: PostgreSQL, three task-service replicas, a sidecar
 * beside each and a client sidecar), driven through the client sidecar's outbound port.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalMeshTest {
  private static LocalMesh mesh;
  private static TaskClient client;

  @BeforeAll
  static void startMesh() throws Exception {
    Path workDir = Files.createTempDirectory("local-mesh-test");
    Path zipkinJar = Path.of(System.getProperty("taskmesh.zipkin.jar"));
    mesh = LocalMesh.start(new LocalMesh.Options(3, false, zipkinJar,
        Path.of(System.getProperty("taskmesh.otel.dir")), workDir, Classpath.forChildren()), line -> { });
    client = TaskClient.connect(mesh.outboundTarget(), "task-service", Duration.ofSeconds(10));
  }

  @AfterAll
  static void stopMesh() {
    if (client != null) {
      client.close();
    }
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  @Order(1)
  void everyRpcWorksThroughTheMesh() {
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(1).build(), events::add, status -> { });

    TaskResponse created = client.create("through the mesh", "", "high", 1);
    assertThat(client.get(created.getId())).isEqualTo(created);
    TaskResponse updated = client.update(UpdateTaskRequest.newBuilder().setId(created.getId()).setStatus("done").build());
    assertThat(updated.getStatus()).isEqualTo("done");
    assertThat(client.list(ListTasksRequest.newBuilder().setUserId(1).build()))
        .extracting(TaskResponse::getId).containsExactly(created.getId());
    assertThat(client.delete(created.getId()).getSuccess()).isTrue();
    StatusRuntimeException missing = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> client.get(created.getId()));
    assertThat(missing.getStatus().getCode()).as("the app's own status passes through").isEqualTo(Status.Code.NOT_FOUND);

    await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().anyMatch(e -> e.getEventType().equals("deleted")));
    assertThat(events).extracting(TaskUpdateEvent::getEventType).endsWith("updated", "deleted");
    subscription.cancel();
  }

  @Test
  @Order(2)
  void theSidecarsCountWhatTheClientSent() {
    double before = MeshMetrics.sum(mesh.clientAdmin(), "taskmesh_requests_total", "direction=\"outbound\"");
    double inboundBefore = inboundTotal();
    TaskResponse task = client.create("counted", "", "", 2);
    for (int i = 0; i < 99; i++) {
      client.get(task.getId());
    }

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(MeshMetrics.sum(mesh.clientAdmin(), "taskmesh_requests_total", "direction=\"outbound\"") - before)
          .isEqualTo(100);
      assertThat(inboundTotal() - inboundBefore).isEqualTo(100);
    });
  }

  @Test
  @Order(5)
  void oneRequestsTraceInZipkinHasSpansFromBothSidecarsAndTheApp() {
    ZipkinQuery zipkin = new ZipkinQuery(mesh.zipkin().baseUri());
    TaskResponse task = client.create("trace me", "", "", 3);
    client.get(task.getId());

    List<List<Span>> traces = new ArrayList<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
      traces.clear();
      zipkin.traces(SidecarConfigs.CLIENT, 50).stream()
          .filter(trace -> trace.stream().anyMatch(span -> span.name().endsWith("/gettask")
              && "0".equals(span.tags().get("rpc.grpc.status_code"))))
          .filter(trace -> trace.stream().anyMatch(span -> !span.tags().containsKey("taskmesh.direction")))
          .forEach(traces::add);
      return !traces.isEmpty();
    });
    List<Span> trace = zipkin.trace(traces.get(0).get(0).traceId());
    Span clientHop = only(trace, span -> span.serviceName().equals(SidecarConfigs.CLIENT) && "CLIENT".equals(span.kind()));
    Span serverHop = only(trace, span -> span.serviceName().equals(SidecarConfigs.SERVICE) && "SERVER".equals(span.kind())
        && "inbound".equals(span.tags().get("taskmesh.direction")));
    Span app = only(trace, span -> span.serviceName().equals(SidecarConfigs.SERVICE) && "SERVER".equals(span.kind())
        && !span.tags().containsKey("taskmesh.direction")); // the javaagent's span in the app
    assertThat(serverHop.parentId()).isEqualTo(clientHop.id());
    assertThat(app.parentId()).isEqualTo(serverHop.id());
    assertThat(trace).extracting(Span::traceId).containsOnly(clientHop.traceId());
  }

  @Test
  @Order(6)
  void theGatewayServesTheSameTasksAsRestJson() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> created = http.send(
        java.net.http.HttpRequest.newBuilder(mesh.gatewayUri().resolve("/api/tasks"))
            .header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"title\":\"via the gateway\",\"user_id\":4}"))
            .build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);

    List<TaskResponse> stored = client.list(ListTasksRequest.newBuilder().setUserId(4).build());
    assertThat(stored).extracting(TaskResponse::getTitle).containsExactly("via the gateway");
    assertThat(created.body()).contains("\"id\":" + stored.get(0).getId());
  }

  private static Span only(List<Span> trace, java.util.function.Predicate<Span> which) {
    List<Span> matching = trace.stream().filter(which).toList();
    assertThat(matching).as("matching spans in %s", trace).hasSize(1);
    return matching.get(0);
  }

  @Test
  @Order(3)
  void killingAReplicaLosesNoAcknowledgedTask() {
    List<Integer> acknowledged = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      if (i == 20) {
        mesh.killReplica(2);
      }
      try {
        acknowledged.add(client.create("write " + i, "", "", 5).getId());
      } catch (StatusRuntimeException e) {
        failures.add(e.getStatus().toString());
      }
    }

    // a call in flight at the moment of the kill may fail (a CreateTask is not safe to retry once sent);
    // every later call must find a live replica: connect failures move on to another endpoint
    assertThat(failures).as("failed calls").hasSizeLessThanOrEqualTo(1);
    List<Integer> stored = client.list(ListTasksRequest.newBuilder().setUserId(5).setLimit(500).build())
        .stream().map(TaskResponse::getId).toList();
    assertThat(stored).containsAll(acknowledged);
  }

  @Test
  @Order(4)
  void aWholeServiceOutageOpensTheCircuitAndRecoveryClosesIt() {
    TaskResponse task = client.create("outage", "", "", 6);
    mesh.stopAllApps();

    List<String> failures = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      try {
        client.get(task.getId());
      } catch (StatusRuntimeException e) {
        failures.add(e.getStatus().getDescription());
      }
    }

    assertThat(failures).hasSize(15);
    assertThat(failures.get(failures.size() - 1)).contains("client-sidecar").contains("circuit open");
    assertThat(circuitState()).as("open").isEqualTo(1.0);

    mesh.restartStoppedApps();

    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> client.get(task.getId()).equals(task));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      client.get(task.getId());
      return circuitState() == 0.0;
    });
  }

  private static double circuitState() {
    return MeshMetrics.sum(mesh.clientAdmin(), "taskmesh_circuit_breaker_state", "service=\"task-service\"");
  }

  private static double inboundTotal() {
    double total = 0;
    for (LocalMesh.Replica replica : mesh.replicas()) {
      if (replica.sidecar().isAlive()) {
        total += MeshMetrics.sum(URI.create("http://127.0.0.1:" + replica.ports().admin()),
            "taskmesh_requests_total", "direction=\"inbound\"");
      }
    }
    return total;
  }
}
