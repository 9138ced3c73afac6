package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.FakeControlPlane;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client sidecar learns its upstream's method shapes from the first call on, although that call comes before
 * discovery has named any endpoint (as in a cluster, where discovery answers on demand): the failed ask is
 * repeated by itself, without waiting for later calls.
 */
class MethodCatalogLearningTest {
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void methodsAskedBeforeAnyEndpointWasKnownAreLearntWithoutFurtherCalls() {
    int serverInbound = mesh.serverSidecar(mesh.backend()).inboundPort();
    FakeControlPlane controlPlane = mesh.closeLater(new FakeControlPlane(0));
    Sidecar caller = mesh.sidecar(MeshConfigParser.parse(MeshFixture.discoveringCallerYaml(controlPlane.port())));
    TaskClient client = mesh.clientThrough(caller);
    AdminClient admin = new AdminClient(caller.adminPort());

    // the first call asks for the methods while task-service has no endpoint yet (and may fail: no route)
    CompletableFuture<Void> firstCall = CompletableFuture.runAsync(() -> client.create("first", "", "low", 4));
    await("the first call's subscription").atMost(Duration.ofSeconds(30)).until(() -> controlPlane.subscriptions()
        .stream().anyMatch(subscription -> subscription.getServicesList().contains("task-service")));
    controlPlane.announce("task-service", 1, serverInbound);
    boolean answered = firstCall.handle((ok, failed) -> failed == null).join();
    if (!answered) {
      await("a call that works").atMost(Duration.ofSeconds(30)).ignoreExceptions()
          .until(() -> client.create("second", "", "low", 4) != null);
    }

    await("task-service's methods learnt with no call after the first that worked").atMost(Duration.ofSeconds(30))
        .until(() -> admin.get("/methods").body().contains("/taskservice.TaskService/CreateTask\":{\"unary\":true"));
  }

  @Test
  void theMethodsOfAServiceInAnotherNamespaceAreLearntUnderItsOwnName() {
    int serverInbound = mesh.serverSidecar(mesh.backend()).inboundPort();
    FakeControlPlane controlPlane = mesh.closeLater(new FakeControlPlane(0));
    Sidecar caller = mesh.sidecar(MeshConfigParser.parse(MeshFixture.discoveringCallerYaml(controlPlane.port())));
    TaskClient billing = mesh.closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(),
        "task-service.billing.svc.cluster.local:50051", Duration.ofSeconds(10)));
    AdminClient admin = new AdminClient(caller.adminPort());

    await("a call to task-service.billing").atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      controlPlane.announce("task-service.billing", 1, serverInbound);
      return billing.create("in billing", "", "low", 4) != null;
    });

    await("task-service.billing's methods learnt").atMost(Duration.ofSeconds(30))
        .until(() -> admin.get("/methods").body().contains(
            "\"task-service.billing\":{\"/taskservice.TaskService/CreateTask\":{\"unary\":true"));
  }

  @Test
  void aGatewayLearnsTheMethodsOfAStaticServiceOfAnotherNamespace() {
    int serverInbound = mesh.serverSidecar(mesh.backend()).inboundPort();
    Sidecar gateway = mesh.sidecar(MeshConfigParser.parse("""
        service: gateway
        namespace: edge
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery:
            static: {task-service.billing: ["127.0.0.1:%d"]}
        admin: {port: 0}
        gateway:
          port: 0
          routes:
            - {pathPrefix: /taskservice.TaskService/, service: task-service.billing}
        """.formatted(serverInbound)));
    TaskClient client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + gateway.gatewayPort(), "tasks.example.com",
        Duration.ofSeconds(10)));
    AdminClient admin = new AdminClient(gateway.adminPort());

    assertThat(client.create("via the gateway", "", "low", 4)).isNotNull();
    await("task-service.billing's methods learnt through the outbound listener").atMost(Duration.ofSeconds(30))
        .until(() -> admin.get("/methods").body().contains(
            "\"task-service.billing\":{\"/taskservice.TaskService/CreateTask\":{\"unary\":true"));
  }
}
