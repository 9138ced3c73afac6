package io.taskmesh.e2e.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.discovery.OnDemandRouter;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.client.TaskClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's discovery server with a mesh of 200 services, and a real sidecar whose config names none of
 * them: the app's calls subscribe on demand, and the sidecar ends up holding exactly what its app called.
 */
class OnDemandDiscoveryTest {
  private static final String NAMESPACE = "shop";
  private final List<AutoCloseable> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
  }

  @Test
  void aSidecarInAMeshOf200ServicesThatCallsTwoHoldsExactlyTwo() throws Exception {
    TaskServer orders = backend();
    TaskServer billing = backend();
    EndpointRegistry registry = new EndpointRegistry();
    for (int i = 0; i < 200; i++) {
      // nothing listens behind the 198 others: a sidecar that connected to one would fail the test
      registry.update(new ServiceKey("svc-" + i, NAMESPACE), List.of(endpoint(i == 17 ? orders.port()
          : i == 42 ? billing.port() : 1)));
    }
    DiscoveryServer discovery = closeLater(DiscoveryServer.start("127.0.0.1", 0, registry));
    Sidecar sidecar = closeLater(Sidecar.start(MeshConfigParser.parse("""
        service: caller
        namespace: %s
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        admin: {port: 0}
        """.formatted(NAMESPACE, discovery.port())), "127.0.0.1"));
    assertThat(clusters(sidecar)).as("nothing is held before the app calls").isEmpty();

    assertThat(through(sidecar, "svc-17").create("first call waits for discovery", "", "low", 1).getTitle())
        .isEqualTo("first call waits for discovery");
    assertThat(through(sidecar, "svc-42.shop.svc.cluster.local:50051").create("by FQDN", "", "low", 1).getTitle())
        .isEqualTo("by FQDN");
    assertThat(through(sidecar, "svc-17").create("then from what is held", "", "low", 1).getTitle())
        .isEqualTo("then from what is held");

    assertThat(clusters(sidecar)).containsExactlyInAnyOrder("svc-17", "svc-42");
    assertThat(discovery.service().subscribers()).singleElement();

    assertThatThrownBy(() -> through(sidecar, "nosuch").create("x", "", "low", 1))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("'nosuch'").contains("discovery knows no such service");
          assertThat(e.getTrailers().get(io.grpc.Metadata.Key.of("taskmesh-error", io.grpc.Metadata.ASCII_STRING_MARSHALLER)))
              .contains("reason=no_route").contains("nosuch");
        });
    assertThat(clusters(sidecar)).as("an unknown name holds nothing").containsExactlyInAnyOrder("svc-17", "svc-42");
  }

  @Test
  void aCapturedConnectionToAClusterIpIsRoutedToTheServiceBehindItWhenTheAuthorityDoesNotSay() throws Exception {
    TaskServer orders = backend();
    EndpointRegistry registry = new EndpointRegistry();
    registry.update(new ServiceKey("orders", NAMESPACE), List.of(endpoint(orders.port())));
    registry.useAddresses(Map.of("10.96.0.17:50051", new ServiceKey("orders", NAMESPACE)));
    DiscoveryServer discovery = closeLater(DiscoveryServer.start("127.0.0.1", 0, registry));
    Sidecar sidecar = closeLater(Sidecar.start(MeshConfigParser.parse("""
        service: caller
        namespace: %s
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        admin: {port: 0}
        """.formatted(NAMESPACE, discovery.port())), "127.0.0.1"));
    OnDemandRouter captured = new OnDemandRouter(sidecar.outboundClusters(), sidecar.onDemand().orElseThrow(),
        Optional.of("10.96.0.17:50051"));

    for (String authority : List.of("10.96.0.17:50051", "orders-legacy-name:50051")) {
      Route route = captured.route(new DefaultHttp2Headers().authority(authority)).orElseThrow();
      CompletableFuture<Optional<Cluster>> resolved = new CompletableFuture<>();
      route.backends().all().get(0).resolve(resolved::complete);
      assertThat(resolved.get(10, TimeUnit.SECONDS)).as(authority)
          .hasValueSatisfying(cluster -> assertThat(cluster.service()).isEqualTo("orders"));
    }
    OnDemandRouter notCaptured = new OnDemandRouter(sidecar.outboundClusters(), sidecar.onDemand().orElseThrow(),
        Optional.empty());
    assertThat(notCaptured.route(new DefaultHttp2Headers().authority("10.96.0.17:50051")))
        .as("an IP without an original destination names nothing").isEmpty();
  }

  /** The outbound cluster names on admin /clusters (the local app's inbound cluster aside). */
  private static List<String> clusters(Sidecar sidecar) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.adminPort() + "/clusters")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    List<String> names = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = new ObjectMapper().readTree(response.body()).fields(); it.hasNext(); ) {
      String name = it.next().getKey();
      if (!name.startsWith("inbound|")) {
        names.add(name);
      }
    }
    return names;
  }

  private TaskClient through(Sidecar sidecar, String authority) {
    return closeLater(TaskClient.connect("127.0.0.1:" + sidecar.outboundPort(), authority, Duration.ofSeconds(10)));
  }

  private TaskServer backend() {
    return closeLater(TaskServer.start(TaskServerOptions.defaults().withPort(0).withBindAddress("127.0.0.1")
        .withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")));
  }

  private static Endpoint endpoint(int port) {
    return Endpoint.newBuilder().setAddress("127.0.0.1").setPort(port).setReady(true).build();
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    started.add(resource);
    return resource;
  }
}
