package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** grpc-java client → client sidecar (outbound) → server sidecar (inbound) → task-service, all real. */
class SidecarPairForwardingTest {
  private final MeshFixture mesh = new MeshFixture();
  private TaskServer backend;
  private TaskClient client;

  @BeforeEach
  void startMesh() {
    backend = mesh.backend();
    Sidecar serverSide = mesh.serverSidecar(backend);
    Sidecar clientSide = mesh.clientSidecar("P2C_EWMA", serverSide.inboundPort());
    client = mesh.clientThrough(clientSide);
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void allSixTaskServiceRpcsWorkThroughTheSidecarPair() {
    TaskResponse created = client.create("write report", "quarterly", "high", 1);
    assertThat(created.getId()).isPositive();
    assertThat(client.get(created.getId()).getTitle()).isEqualTo("write report");

    TaskResponse updated = client.update(UpdateTaskRequest.newBuilder().setId(created.getId()).setStatus("in_progress").build());
    assertThat(updated.getStatus()).isEqualTo("in_progress");

    client.create("second", "", "low", 1);
    List<TaskResponse> listed = client.list(ListTasksRequest.newBuilder().setUserId(1).build());
    assertThat(listed).extracting(TaskResponse::getTitle).containsExactly("write report", "second");

    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    AtomicReference<Status> end = new AtomicReference<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(1).build(), events::add, end::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);
    client.create("third", "", "low", 1);
    assertThat(client.delete(created.getId()).getSuccess()).isTrue();
    await().atMost(Duration.ofSeconds(30)).until(() -> events.size() == 2);
    assertThat(events).extracting(TaskUpdateEvent::getEventType)
        .containsExactly("created", "deleted");
    subscription.cancel();
  }

  @Test
  void cancellingAServerStreamMidwayCancelsItAtTheApp() {
    AtomicReference<Status> end = new AtomicReference<>();
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(2).build(), events::add, end::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);
    client.create("one", "", "low", 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> events.size() == 1);

    subscription.cancel();

    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 0);
    assertThat(end.get().getCode()).isEqualTo(Status.Code.CANCELLED);
    assertThat(client.create("after cancel", "", "low", 2).getTitle()).isEqualTo("after cancel");
  }

  @Test
  void appErrorsPassThroughWithTheirStatusAndMessage() {
    assertThatThrownBy(() -> client.get(999_999))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("task 999999 not found");
        });
  }

  @Test
  void aLargeListStreamsThroughIntact() {
    String description = "x".repeat(2_000);
    for (int i = 0; i < 200; i++) {
      client.create("task " + i, description, "low", 3);
    }
    List<TaskResponse> listed = client.list(ListTasksRequest.newBuilder().setUserId(3).setLimit(500).build());
    assertThat(listed).hasSize(200).allSatisfy(task -> assertThat(task.getDescription()).hasSize(2_000));
  }
}
