package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DiscoveryServiceTest {
  private static final Duration BOUND = Duration.ofSeconds(30);
  private final EndpointRegistry registry = new EndpointRegistry();
  private DiscoveryServer server;

  @BeforeEach
  void start() {
    server = DiscoveryServer.start("127.0.0.1", 0, registry);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void aNewSubscriberGetsTheCurrentSetAtOnceThenEveryChangeWithAGrowingVersion() {
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.1"), endpoint("10.0.0.2")));

    try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", "shop", "tasks")) {
      await().atMost(BOUND).until(() -> sidecar.latest("tasks") != null);
      assertThat(sidecar.latest("tasks").getEndpointsList()).extracting(Endpoint::getAddress)
          .containsExactly("10.0.0.1", "10.0.0.2");
      long first = sidecar.latest("tasks").getVersion();

      registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.2")));

      await().atMost(BOUND).until(() -> sidecar.latest("tasks").getEndpointsCount() == 1);
      assertThat(sidecar.latest("tasks").getVersion()).isGreaterThan(first);
      assertThat(sidecar.latest("tasks").getNamespace()).isEqualTo("shop");
    }
  }

  @Test
  void aSidecarGetsOnlyTheServicesItNamesInItsOwnNamespaceOrQualified() {
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.1")));
    registry.update(new ServiceKey("tasks", "other"), List.of(endpoint("10.9.9.9")));
    registry.update(new ServiceKey("billing", "finance"), List.of(endpoint("10.1.1.1")));

    try (DiscoveryClientFixture sidecar =
        new DiscoveryClientFixture(server.port(), "web-1", "shop", "tasks", "billing.finance")) {
      await().atMost(BOUND).until(() -> sidecar.latest("tasks") != null && sidecar.latest("billing.finance") != null);
      assertThat(sidecar.latest("tasks").getEndpoints(0).getAddress()).isEqualTo("10.0.0.1");
      assertThat(sidecar.latest("billing.finance").getEndpoints(0).getAddress()).isEqualTo("10.1.1.1");
      assertThat(sidecar.received).noneMatch(set -> set.getEndpointsList().stream()
          .anyMatch(e -> e.getAddress().equals("10.9.9.9")));
    }
  }

  @Test
  void subscribersAreKnownWithTheirConfigHashUntilTheyLeave() {
    try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-7", "shop", "tasks")) {
      await().atMost(BOUND).until(() -> server.service().subscribers().size() == 1);
      assertThat(server.service().subscribers()).singleElement()
          .satisfies(node -> assertThat(node.getConfigHash()).isEqualTo("abc"));

      sidecar.cancel();

      await().atMost(BOUND).until(() -> server.service().subscribers().isEmpty());
    }
  }

  @Test
  void aSidecarThatCallsNothingIsStillCountedWithItsConfigHash() {
    try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "tasks-0", "shop")) {
      await().atMost(BOUND).until(() -> server.service().subscribers().size() == 1);
      assertThat(sidecar.ended.get()).isNull();
      assertThat(sidecar.received).isEmpty();
    }
  }

  @Test
  void anUnqualifiedServiceWithoutANamespaceIsRefusedNamingTheField() {
    try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", "", "tasks")) {
      await().atMost(BOUND).until(() -> sidecar.ended.get() != null);
      assertThat(sidecar.ended.get().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(sidecar.ended.get().getDescription()).contains("node.namespace");
    }
  }

  @Test
  void aLaterRequestOnTheSameStreamReplacesTheSubscriptionAndItsConfigHash() {
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.1")));
    registry.update(new ServiceKey("billing", "shop"), List.of(endpoint("10.1.1.1")));
    try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), "web-1", "shop", "tasks")) {
      await().atMost(BOUND).until(() -> sidecar.latest("tasks") != null);

      sidecar.send(SubscribeRequest.newBuilder()
          .setNode(Node.newBuilder().setPodName("web-1").setNamespace("shop").setService("client").setConfigHash("def"))
          .addServices("billing").build());

      await().atMost(BOUND).until(() -> sidecar.latest("billing") != null);
      await().atMost(BOUND).until(() -> server.service().subscribers().stream()
          .anyMatch(node -> node.getConfigHash().equals("def")));
      assertThat(server.service().subscribers()).hasSize(1);
      int before = sidecar.received.size();
      registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.9")));
      registry.update(new ServiceKey("billing", "shop"), List.of(endpoint("10.1.1.9")));
      await().atMost(BOUND).until(() -> sidecar.latest("billing").getEndpoints(0).getAddress().equals("10.1.1.9"));
      assertThat(sidecar.received.subList(before, sidecar.received.size()))
          .as("a service left out of the new request is no longer sent").noneMatch(set -> set.getService().equals("tasks"));
    }
  }

  @Test
  void aNameNobodyServesIsAnsweredUnknownAndAClusterAddressByItsService() {
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.1")));
    registry.useAddresses(java.util.Map.of("10.96.0.12:50051", new ServiceKey("tasks", "shop")));
    try (DiscoveryClientFixture sidecar = new DiscoveryClientFixture(server.port(), SubscribeRequest.newBuilder()
        .setNode(Node.newBuilder().setPodName("web-1").setNamespace("shop"))
        .addServices("nosuch").addAddresses("10.96.0.12:50051").addAddresses("10.96.0.99:80").build())) {
      await().atMost(BOUND).until(() -> sidecar.received.size() >= 3);
      assertThat(sidecar.latest("nosuch").getUnknown()).isTrue();
      assertThat(sidecar.received).anySatisfy(set -> {
        assertThat(set.getAddress()).isEqualTo("10.96.0.12:50051");
        assertThat(set.getService()).isEqualTo("tasks.shop");
        assertThat(set.getUnknown()).isFalse();
        assertThat(set.getEndpoints(0).getAddress()).isEqualTo("10.0.0.1");
      });
      assertThat(sidecar.received).anySatisfy(set -> {
        assertThat(set.getAddress()).isEqualTo("10.96.0.99:80");
        assertThat(set.getUnknown()).isTrue();
      });
    }
  }

  static Endpoint endpoint(String address) {
    return Endpoint.newBuilder().setAddress(address).setPort(15006).setReady(true).build();
  }
}
