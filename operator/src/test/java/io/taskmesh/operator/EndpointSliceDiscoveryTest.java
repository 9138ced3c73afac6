package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.EndpointSliceWatcher;
import io.taskmesh.operator.discovery.MeshedPods;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Optional;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** EndpointSlice changes in the (mock) API server reach a subscribed sidecar over gRPC. */
@EnableKubernetesMockClient(crud = true)
class EndpointSliceDiscoveryTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  static KubernetesClient client;

  @Test
  void endpointSliceChangesReachASubscribedSidecar() {
    EndpointRegistry registry = new EndpointRegistry();
    try (EndpointSliceWatcher watcher = new EndpointSliceWatcher(client, registry);
        DiscoveryServer server = DiscoveryServer.start("127.0.0.1", 0, registry)) {
      watcher.start();
      try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", "shop", "tasks")) {
        client.resource(slice("tasks-abc", true)).create();

        await().atMost(BOUND).until(() -> sidecar.latest("tasks") != null && sidecar.latest("tasks").getEndpointsCount() == 2);
        assertThat(sidecar.latest("tasks").getEndpointsList()).allSatisfy(endpoint -> {
          assertThat(endpoint.getPort()).isEqualTo(15006);
          assertThat(endpoint.getReady()).isTrue();
          assertThat(endpoint.getZone()).isEqualTo("zone-a");
        });
        assertThat(sidecar.latest("tasks").getEndpointsList()).extracting(Endpoint::getPodName)
            .containsExactly("tasks-0", "tasks-1");

        client.resource(slice("tasks-abc", false)).update();

        await().atMost(BOUND).until(() -> sidecar.latest("tasks").getEndpointsList().stream().noneMatch(Endpoint::getReady));

        client.resource(slice("tasks-abc", false)).delete();

        await().atMost(BOUND).until(() -> sidecar.latest("tasks").getEndpointsCount() == 0);
      }
    }
  }

  @Test
  void aMeshedPodsEndpointCarriesItsServiceAccountsSpiffeIdAndAnUnmeshedOneItsName() {
    client.resource(new PodBuilder().withNewMetadata().withName("tasks-0").withNamespace("shop")
        .addToLabels("taskmesh.io/tls-mode", "mtls").endMetadata()
        .withNewSpec().withServiceAccountName("tasks").addNewContainer().withName("app").endContainer().endSpec()
        .build()).create();
    client.resource(new PodBuilder().withNewMetadata().withName("tasks-1").withNamespace("shop").endMetadata()
        .withNewSpec().addNewContainer().withName("app").endContainer().endSpec().build()).create();
    EndpointRegistry registry = new EndpointRegistry();
    try (MeshedPods pods = new MeshedPods(client, "cluster.local");
        EndpointSliceWatcher watcher = new EndpointSliceWatcher(client, registry, Optional.of(pods));
        DiscoveryServer server = DiscoveryServer.start("127.0.0.1", 0, registry)) {
      watcher.start();
      try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", "shop", "tasks")) {
        client.resource(slice("tasks-mtls", true)).create();

        await().atMost(BOUND).until(() -> sidecar.latest("tasks") != null
            && sidecar.latest("tasks").getEndpointsCount() == 2
            && sidecar.latest("tasks").getEndpoints(0).getIdentity().startsWith("spiffe://"));
        assertThat(sidecar.latest("tasks").getEndpointsList()).extracting(Endpoint::getIdentity)
            .containsExactly("spiffe://cluster.local/ns/shop/sa/tasks", "tasks-1");
      }
    } finally {
      client.resource(slice("tasks-mtls", true)).delete();
      client.pods().inNamespace("shop").delete();
    }
  }

  @Test
  void aMeshedEndpointKeepsItsSpiffeIdAfterItsPodIsGoneUntilItsSliceDropsIt() {
    client.resource(meshedPod("tasks-0")).create();
    EndpointRegistry registry = new EndpointRegistry();
    try (MeshedPods pods = new MeshedPods(client, "cluster.local");
        EndpointSliceWatcher watcher = new EndpointSliceWatcher(client, registry, Optional.of(pods));
        DiscoveryServer server = DiscoveryServer.start("127.0.0.1", 0, registry)) {
      watcher.start();
      try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", "shop", "tasks")) {
        client.resource(slice("tasks-rollout", endpoint("10.0.0.1", "tasks-0", true))).create();
        await().atMost(BOUND).until(() -> sidecar.latest("tasks") != null
            && sidecar.latest("tasks").getEndpointsCount() == 1);

        // the pod is deleted while its slice still lists it (terminating), then its replacement arrives: that
        // rebuilds the namespace's sets, and, on the same pod watch, comes after the deletion
        client.pods().inNamespace("shop").withName("tasks-0").delete();
        client.resource(meshedPod("tasks-1")).create();
        client.resource(slice("tasks-rollout", endpoint("10.0.0.1", "tasks-0", false),
            endpoint("10.0.0.2", "tasks-1", true))).update();
        await().atMost(BOUND).until(() -> sidecar.latest("tasks").getEndpointsCount() == 2
            && sidecar.latest("tasks").getEndpoints(1).getIdentity().startsWith("spiffe://"));

        assertThat(sidecar.latest("tasks").getEndpointsList()).extracting(Endpoint::getPodName, Endpoint::getReady)
            .containsExactly(tuple("tasks-0", false), tuple("tasks-1", true));
        assertThat(sidecar.received).filteredOn(set -> set.getService().equals("tasks"))
            .flatExtracting(EndpointSet::getEndpointsList)
            .allSatisfy(endpoint -> assertThat(endpoint.getIdentity())
                .as("identity announced for %s", endpoint.getPodName())
                .isEqualTo("spiffe://cluster.local/ns/shop/sa/tasks"));

        client.resource(slice("tasks-rollout", endpoint("10.0.0.2", "tasks-1", true))).update();
        await().atMost(BOUND).until(() -> sidecar.latest("tasks").getEndpointsCount() == 1);
        assertThat(sidecar.latest("tasks").getEndpoints(0).getIdentity())
            .isEqualTo("spiffe://cluster.local/ns/shop/sa/tasks");
      }
    } finally {
      client.discovery().v1().endpointSlices().inNamespace("shop").withName("tasks-rollout").delete();
      client.pods().inNamespace("shop").delete();
    }
  }

  private static Pod meshedPod(String name) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("shop")
        .addToLabels("taskmesh.io/tls-mode", "mtls").endMetadata()
        .withNewSpec().withServiceAccountName("tasks").addNewContainer().withName("app").endContainer().endSpec()
        .build();
  }

  private static io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint(String address, String pod,
      boolean ready) {
    return new EndpointBuilder().withAddresses(address).withZone("zone-a")
        .withNewConditions().withReady(ready).endConditions()
        .withNewTargetRef().withKind("Pod").withName(pod).endTargetRef()
        .build();
  }

  private static EndpointSlice slice(String name, io.fabric8.kubernetes.api.model.discovery.v1.Endpoint... endpoints) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withName(name).withNamespace("shop")
          .addToLabels("kubernetes.io/service-name", "tasks").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("grpc").withPort(15006).withProtocol("TCP").endPort()
        .withEndpoints(endpoints)
        .build();
  }

  private static EndpointSlice slice(String name, boolean ready) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withName(name).withNamespace("shop")
          .addToLabels("kubernetes.io/service-name", "tasks").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("grpc").withPort(15006).withProtocol("TCP").endPort()
        .addNewEndpoint().withAddresses("10.0.0.1").withZone("zone-a")
          .withNewConditions().withReady(ready).endConditions()
          .withNewTargetRef().withKind("Pod").withName("tasks-0").endTargetRef()
        .endEndpoint()
        .addNewEndpoint().withAddresses("10.0.0.2").withZone("zone-a")
          .withNewConditions().withReady(ready).endConditions()
          .withNewTargetRef().withKind("Pod").withName("tasks-1").endTargetRef()
        .endEndpoint()
        .build();
  }
}
