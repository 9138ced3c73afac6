package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.sidecar.support.FakeControlPlane;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The discovery client against a real EndpointDiscovery server over loopback. */
class ControlPlaneDiscoveryTest {
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void endpointsComeFromTheControlPlaneAndSurviveItsRestart() throws Exception {
    TaskServer first = mesh.backend();
    TaskServer second = mesh.backend();
    FakeControlPlane controlPlane = new FakeControlPlane(0);
    int controlPlanePort = controlPlane.port();
    Sidecar clientSide = mesh.sidecar(MeshConfigParser.parse(MeshFixture.discoveringCallerYaml(controlPlanePort,
        "upstreams: {task-service: {loadBalancer: ROUND_ROBIN}}")));
    TaskClient client = mesh.clientThrough(clientSide);

    await().atMost(Duration.ofSeconds(30)).until(() -> !controlPlane.subscriptions().isEmpty());
    assertThat(controlPlane.subscriptions().get(0).getServicesList()).containsExactly("task-service");
    assertThat(controlPlane.subscriptions().get(0).getNode().getConfigHash())
        .isEqualTo(MeshConfigWriter.hash(clientSide.config()));
    controlPlane.announce("task-service", 1, first.port());
    await().atMost(Duration.ofSeconds(30)).until(() -> clientSide.outboundClusters().cluster("task-service").isPresent());
    assertThat(client.create("via discovery", "", "low", 4).getTitle()).isEqualTo("via discovery");

    controlPlane.close();
    assertThat(client.create("control plane gone", "", "low", 4).getTitle())
        .as("last endpoints stay in force").isEqualTo("control plane gone");

    FakeControlPlane restarted = mesh.closeLater(new FakeControlPlane(controlPlanePort));
    await().atMost(Duration.ofSeconds(30)).until(() -> restarted.subscriberCount() == 1);
    restarted.announce("task-service", 1, second.port());
    await().atMost(Duration.ofSeconds(30)).until(() -> clientSide.outboundClusters().cluster("task-service")
        .orElseThrow().endpoints().stream().anyMatch(e -> e.address().port() == second.port()
            && e.state() == io.taskmesh.sidecar.cluster.Endpoint.State.ACTIVE));
    assertThat(client.create("after resubscribe", "", "low", 4).getTitle()).isEqualTo("after resubscribe");
    assertThat(MeshFixture.tasksOn(second, 4)).isEqualTo(1);
  }

  @Test
  void afterEveryReloadTheSidecarReannouncesItsHashAndSubscriptionsOnTheSameStream() throws Exception {
    TaskServer backend = mesh.backend();
    FakeControlPlane controlPlane = mesh.closeLater(new FakeControlPlane(0));
    java.util.function.BiFunction<String, String, MeshConfig> config = (timeout, upstream) -> MeshConfigParser.parse(
        MeshFixture.discoveringCallerYaml(controlPlane.port(), "defaults: {timeout: " + timeout + "}",
            "upstreams: {" + upstream + ": {loadBalancer: ROUND_ROBIN}}"));
    Sidecar clientSide = mesh.sidecar(config.apply("5s", "task-service"));
    await().atMost(Duration.ofSeconds(30)).until(() -> !controlPlane.subscriptions().isEmpty());

    for (String timeout : new String[] {"3s", "4s"}) {
      MeshConfig reloaded = config.apply(timeout, "billing");
      clientSide.apply(reloaded);
      String hash = MeshConfigWriter.hash(reloaded);
      await().atMost(Duration.ofSeconds(30)).until(() -> controlPlane.subscriptions().stream()
          .anyMatch(request -> request.getNode().getConfigHash().equals(hash)));
      var latest = controlPlane.subscriptions().get(controlPlane.subscriptions().size() - 1);
      assertThat(latest.getNode().getConfigHash()).isEqualTo(hash);
      assertThat(latest.getServicesList()).as("the upstream the reload added is subscribed").contains("billing");
    }
    assertThat(controlPlane.subscriberCount()).as("one stream throughout").isEqualTo(1);

    controlPlane.announce("billing", 1, backend.port());
    await().atMost(Duration.ofSeconds(30)).until(() -> clientSide.outboundClusters().cluster("billing").isPresent());
  }

  @Test
  void aServiceOfTheSameNameInAnotherNamespaceIsAClusterOfItsOwn() throws Exception {
    TaskServer here = mesh.backend();
    TaskServer inBilling = mesh.backend();
    FakeControlPlane controlPlane = mesh.closeLater(new FakeControlPlane(0));
    Sidecar caller = mesh.sidecar(MeshConfigParser.parse(MeshFixture.discoveringCallerYaml(controlPlane.port())));
    String through = "127.0.0.1:" + caller.outboundPort();
    TaskClient local = mesh.closeLater(TaskClient.connect(through, "task-service", Duration.ofSeconds(10)));
    TaskClient billing = mesh.closeLater(TaskClient.connect(through, "task-service.billing.svc.cluster.local:50051",
        Duration.ofSeconds(10)));
    TaskClient ownNamespaceInFull = mesh.closeLater(TaskClient.connect(through, "task-service.shop:50051",
        Duration.ofSeconds(10)));

    // each name is subscribed on its first call; a call before the answer fails with no route and creates nothing.
    // The control plane sends every set to every subscriber: the sidecar takes only what it subscribed to.
    await("a call to task-service").atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      controlPlane.announce("task-service", 1, here.port());
      controlPlane.announce("task-service.billing", 1, inBilling.port());
      return local.create("here", "", "low", 31) != null;
    });
    await("a call to task-service.billing").atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      controlPlane.announce("task-service", 1, here.port());
      controlPlane.announce("task-service.billing", 1, inBilling.port());
      return billing.create("in billing", "", "low", 32) != null;
    });
    ownNamespaceInFull.create("here too", "", "low", 31);
    for (int turn = 0; turn < 3; turn++) { // one name after the other on the same router: each keeps its own route
      billing.create("in billing", "", "low", 32);
      local.create("here", "", "low", 31);
    }

    assertThat(MeshFixture.tasksOn(here, 31)).as("task-service and task-service.shop: the caller's namespace").isEqualTo(5);
    assertThat(MeshFixture.tasksOn(here, 32)).as("none of billing's calls here").isZero();
    assertThat(MeshFixture.tasksOn(inBilling, 32)).isEqualTo(4);
    assertThat(MeshFixture.tasksOn(inBilling, 31)).isZero();
    assertThat(controlPlane.subscriptions().get(controlPlane.subscriptions().size() - 1).getServicesList())
        .containsExactlyInAnyOrder("task-service", "task-service.billing");
    assertThat(caller.outboundClusters().clusters()).containsOnlyKeys("task-service", "task-service.billing");
  }
}
