package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.client.TaskClient;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Graceful drain: not ready, no new connections, in-flight streams carry on until they end. */
class DrainTest {
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void drainingFailsReadinessRefusesNewConnectionsAndLetsInFlightStreamsFinish() throws Exception {
    TaskServer backend = mesh.backend();
    Sidecar serverSide = mesh.serverSidecar(backend);
    Sidecar clientSide = mesh.clientSidecar("P2C_EWMA", serverSide.inboundPort());
    TaskClient client = mesh.clientThrough(clientSide);
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    AtomicReference<Status> end = new AtomicReference<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(4).build(), events::add, end::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);

    CompletableFuture<Void> drained = CompletableFuture.runAsync(clientSide::drain);

    AdminClient admin = new AdminClient(clientSide.adminPort());
    await().atMost(Duration.ofSeconds(30)).until(() -> admin.get("/ready").statusCode() == 503);
    assertThatThrownBy(() -> new Socket("127.0.0.1", clientSide.outboundPort()).close())
        .isInstanceOf(ConnectException.class);
    mesh.directClient(backend).create("during drain", "", "low", 4);
    await().atMost(Duration.ofSeconds(30)).until(() -> events.size() == 1);
    assertThat(drained).isNotDone();
    assertThat(end.get()).isNull();

    subscription.cancel();
    drained.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(events.get(0).getTask().getTitle()).isEqualTo("during drain");
  }
}
