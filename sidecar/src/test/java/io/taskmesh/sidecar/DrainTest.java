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
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import io.taskmesh.sidecar.support.GatewayFixture;
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

  @Test
  void anHttp11RequestInFlightWhenTheDrainStartsIsAnsweredBeforeItsConnectionCloses() throws Exception {
    Sidecar serverSide = mesh.serverSidecar(mesh.backend());
    Sidecar gateway = GatewayFixture.gateway(mesh, null, "{requestsPerMinute: 100}", serverSide.inboundPort());
    String body = "{\"title\": \"drained\", \"user_id\": 4}";
    try (Socket socket = new Socket("127.0.0.1", gateway.gatewayPort())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/tasks HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length() + "\r\n\r\n" + body.substring(0, 10)).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(Duration.ofSeconds(30)).until(() -> gatewayHasRequestInFlight(gateway));

      CompletableFuture<Void> drained = CompletableFuture.runAsync(gateway::drain);
      await().atMost(Duration.ofSeconds(30)).until(() -> new AdminClient(gateway.adminPort()).get("/ready").statusCode() == 503);
      assertThat(drained).isNotDone(); // waits for the request in flight
      out.write(body.substring(10).getBytes(StandardCharsets.US_ASCII));
      out.flush();

      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close").contains("drained");
      drained.get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** The gateway's HTTP/1.1 connection holds a request whose body is still arriving. */
  private static boolean gatewayHasRequestInFlight(Sidecar gateway) {
    return gateway.gateway().trackedClients() == 1; // its token was charged when the headers arrived
  }
}
