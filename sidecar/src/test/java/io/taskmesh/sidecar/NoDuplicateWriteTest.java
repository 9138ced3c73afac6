package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.SlowCreateFront;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.CreateTaskRequest;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A method that is not safe to send twice is never sent again, and so not abandoned at the per-try timeout
 * either (a try cut there may have been acted on already, and nothing could follow it): it is waited for.
 */
class NoDuplicateWriteTest {
  private static final int USER = 7;
  private final MeshFixture mesh = new MeshFixture();
  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void aCreateTaskSlowerThanThePerTryTimeoutIsWaitedForAndCreatesExactlyOneTask() {
    TaskServer store = mesh.backend();
    SlowCreateFront slow = mesh.closeLater(new SlowCreateFront(store.port(), Duration.ofMillis(900)));
    Sidecar server = mesh.serverSidecar(slow.port());
    Sidecar caller = mesh.callerWithDefaults(
        "{retries: {attempts: 3, perTryTimeout: 300ms, retryOn: [UNAVAILABLE], budgetPercent: 100}}", server.inboundPort());
    ManagedChannel channel = mesh.channelThrough(caller, MeshFixture.SERVICE);
    TaskServiceGrpc.TaskServiceBlockingStub tasks = TaskServiceGrpc.newBlockingStub(channel);
    AdminClient admin = new AdminClient(caller.adminPort());
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
      try { // any call makes the sidecar ask the service's reflection; the front has no GetTask
        tasks.withDeadlineAfter(5, TimeUnit.SECONDS).getTask(GetTaskRequest.newBuilder().setId(1).build());
      } catch (StatusRuntimeException expected) {
        // UNIMPLEMENTED
      }
      return admin.get("/methods").body().contains("TaskService/CreateTask\":{\"unary\":true,\"idempotent\":false");
    });

    // slower than the per-try timeout (300 ms) but within the route timeout: a call that cannot go twice is waited for
    CreateTaskRequest create = CreateTaskRequest.newBuilder().setTitle("exactly once").setPriority("low").setUserId(USER)
        .build();
    assertThat(tasks.withDeadlineAfter(20, TimeUnit.SECONDS).createTask(create).getTitle()).isEqualTo("exactly once");
    assertThat(slow.calls()).as("CreateTask calls that reached the service").isEqualTo(1);
    await().atMost(Duration.ofSeconds(30)).until(() -> slow.stored() == 1);
    assertThat(MeshFixture.tasksOn(store, USER)).as("tasks in the store").isEqualTo(1);
    assertThat(admin.metricSum("taskmesh_retries_total")).isZero();
  }
}
