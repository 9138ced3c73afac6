package io.taskmesh.e2e.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.route.GrpcRouteController;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.client.TaskClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole path of a GRPCRoute: stored in the (mock) API server, turned into a route table by the operator's
 * controller, carried by the operator's discovery server with the parent Service's endpoints, and applied by a
 * real sidecar whose config names no route, to real task-service calls, and by a gateway (REST transcoded to
 * gRPC, and gRPC passed through) on the same route. Each version is a task server with a
 * store of its own, so where a call went is counted in the stores.
 */
@EnableKubernetesMockClient(crud = true)
class GrpcRouteTrafficTest {
  private static final String NAMESPACE = "shop";
  private static final Duration BOUND = Duration.ofSeconds(60);

  static KubernetesClient client;

  private final List<AutoCloseable> started = new ArrayList<>();
  private TaskServer v1;
  private TaskServer v2;
  private Sidecar sidecar;
  private DiscoveryServer discovery;

  @BeforeEach
  void start() {
    v1 = closeLater(backend());
    v2 = closeLater(backend());
    EndpointRegistry endpoints = new EndpointRegistry();
    endpoints.update(key("task-service-v1"), List.of(endpoint(v1.port())));
    endpoints.update(key("task-service-v2"), List.of(endpoint(v2.port())));
    endpoints.update(key("task-service"), List.of(endpoint(v1.port()), endpoint(v2.port())));
    for (String name : List.of("task-service", "task-service-v1", "task-service-v2")) {
      client.resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
          .withNewSpec().addNewPort().withPort(50051).endPort().endSpec().build()).createOr(existing -> existing.update());
    }
    RouteTables tables = new RouteTables();
    GrpcRouteController controller = closeLater(new GrpcRouteController(client, tables, Clock.systemUTC()));
    controller.start();
    client.resource(route(90, 10)).createOr(existing -> existing.update());
    await().atMost(BOUND).until(() -> !tables.current(key("task-service")).rules().isEmpty());
    discovery = closeLater(DiscoveryServer.start("127.0.0.1", 0, endpoints, tables, node -> { }));
    sidecar = closeLater(Sidecar.start(MeshConfigParser.parse("""
        service: caller
        namespace: %s
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        admin: {port: 0}
        """.formatted(NAMESPACE, discovery.port())), "127.0.0.1"));
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    client.resources(GRPCRoute.class).inNamespace(NAMESPACE).delete();
  }

  @Test
  void weightsOf90And10SendNinetyPercentOfTwoThousandCallsToV1AndAHeaderPinsToV2() throws Exception {
    TaskClient tasks = routedClient();
    int v1Start = stored(v1);
    int v2Start = stored(v2);
    for (int i = 0; i < 2_000; i++) {
      tasks.create("split " + i, "", "low", 1);
    }
    int toV1 = stored(v1) - v1Start - 1;
    int toV2 = stored(v2) - v2Start - 1;
    System.out.printf("GrpcRouteTrafficTest: 90/10 over 2000 calls: v1=%d v2=%d%n", toV1, toV2);
    assertThat(toV1 + toV2).isEqualTo(2_000);
    assertThat(toV1).as("calls to v1 of 2,000 (90 %% ± 3 %%)").isBetween(1_740, 1_860);

    assertCallsArePinnedToV2(sidecar.outboundPort(), "task-service", 100);
  }

  @Test
  void shiftingTheRoutesWeightsUnderLoadFailsNoCallAndEndsWithEveryCallOnV2() throws Exception {
    TaskClient tasks = routedClient();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger calls = new AtomicInteger();
    ExecutorService load = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      workers.add(load.submit(() -> {
        while (running.get() && calls.get() < 20_000) {
          tasks.create("shift", "", "low", 1); // a failed call throws and ends this worker
          calls.incrementAndGet();
        }
        return null;
      }));
    }
    try {
      for (int[] weights : new int[][] {{100, 0}, {90, 10}, {50, 50}, {10, 90}, {0, 100}}) {
        editRoute(route -> {
          route.getSpec().getRules().get(1).getBackendRefs().get(0).setWeight(weights[0]);
          route.getSpec().getRules().get(1).getBackendRefs().get(1).setWeight(weights[1]);
        });
        int at = calls.get();
        await().atMost(BOUND).until(() -> calls.get() >= at + 200 || workers.stream().anyMatch(Future::isDone));
      }
    } finally {
      running.set(false);
      load.shutdown();
    }
    for (Future<?> worker : workers) {
      worker.get(30, TimeUnit.SECONDS); // rethrows the first failed call, if any
    }
    System.out.printf("GrpcRouteTrafficTest: %d calls during the shift 100/0 -> 0/100, none failed%n", calls.get());

    // the last shift reaches the sidecar through discovery: once 0/100 is in force nothing more lands on v1
    await().atMost(BOUND).until(() -> {
      int v1Before = stored(v1);
      for (int i = 0; i < 50; i++) {
        tasks.create("after", "", "low", 1);
      }
      return stored(v1) - v1Before - 1 == 0;
    });
  }

  @Test
  void theGatewayRoutesByTheSameRouteRestCallsByWeightAndGrpcCallsByHeader() throws Exception {
    // in a namespace of its own, as the chart runs it: the route's backends are Services of the route's namespace
    Sidecar gateway = closeLater(Sidecar.start(MeshConfigParser.parse("""
        service: gateway
        namespace: edge
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        admin: {port: 0}
        gateway:
          port: 0
          routes:
            - {pathPrefix: /api/tasks, service: task-service.%s, transcode: true}
            - {pathPrefix: /taskservice.TaskService/, service: task-service.%s}
          clientRateLimit: {requestsPerMinute: 60000}
        """.formatted(discovery.port(), NAMESPACE, NAMESPACE)), "127.0.0.1"));
    HttpClient http = HttpClient.newHttpClient();
    URI rest = URI.create("http://127.0.0.1:" + gateway.gatewayPort() + "/api/tasks");
    // from another namespace, the backends are clusters of their own namespace's names
    await().atMost(BOUND).ignoreExceptionsInstanceOf(java.io.IOException.class)
        .until(() -> createByRest(http, rest, "first") == 200 && clusters(gateway).containsAll(
            List.of("task-service-v1." + NAMESPACE, "task-service-v2." + NAMESPACE)));

    int v1Start = stored(v1);
    int v2Start = stored(v2);
    for (int i = 0; i < 500; i++) {
      assertThat(createByRest(http, rest, "rest " + i)).as("POST /api/tasks through the gateway").isEqualTo(200);
    }
    int toV1 = stored(v1) - v1Start - 1;
    int toV2 = stored(v2) - v2Start - 1;
    System.out.printf("GrpcRouteTrafficTest: 90/10 over 500 REST calls through the gateway: v1=%d v2=%d%n", toV1, toV2);
    assertThat(toV1 + toV2).isEqualTo(500);
    assertThat(toV1).as("REST calls to v1 of 500 (90 %% ± 5 %%, 3.7 standard deviations)").isBetween(425, 475);

    // plain gRPC passes the gateway with its headers, so the header rule pins it (a REST call carries only
    // its trace and correlation headers upstream)
    assertCallsArePinnedToV2(gateway.gatewayPort(), "gateway", 50);
  }

  /** {@code calls} creates sent with {@code x-api-version: v2} to {@code port} all land on v2. */
  private void assertCallsArePinnedToV2(int port, String authority, int calls) {
    Metadata pin = new Metadata();
    pin.put(Metadata.Key.of("x-api-version", Metadata.ASCII_STRING_MARSHALLER), "v2");
    int v1Before = stored(v1);
    int v2Before = stored(v2);
    try (TaskClient pinned = new TaskClient(io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress("127.0.0.1", port).overrideAuthority(authority).usePlaintext()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(pin)).build(), Duration.ofSeconds(10))) {
      for (int i = 0; i < calls; i++) {
        pinned.create("pinned " + i, "", "low", 1);
      }
    }
    assertThat(stored(v2) - v2Before - 1).as("x-api-version: v2 through %s pins to v2", authority).isEqualTo(calls);
    assertThat(stored(v1) - v1Before - 1).isZero();
  }

  private static int createByRest(HttpClient http, URI tasks, String title) throws Exception {
    return http.send(HttpRequest.newBuilder(tasks).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"title\":\"" + title + "\",\"user_id\":1}")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** A client through the sidecar once the route is in force there (its backends are held by then). */
  private TaskClient routedClient() throws Exception {
    TaskClient tasks = closeLater(TaskClient.connect("127.0.0.1:" + sidecar.outboundPort(), "task-service",
        Duration.ofSeconds(10)));
    tasks.create("subscribes to task-service", "", "low", 1);
    await().atMost(BOUND).until(() -> clusters(sidecar).containsAll(List.of("task-service-v1", "task-service-v2")));
    return tasks;
  }

  /**
   * How many tasks a version's own store holds, the probe included: a task created directly on it gets the
   * next id of the store's sequence. Between two probes, {@code b - a - 1} calls were routed to it.
   */
  private static int stored(TaskServer server) {
    try (TaskClient direct = TaskClient.connect("127.0.0.1:" + server.port())) {
      return direct.create("probe", "", "low", 2).getId();
    }
  }

  private static List<String> clusters(Sidecar proxy) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + "/clusters")).build(),
        HttpResponse.BodyHandlers.ofString());
    List<String> names = new ArrayList<>();
    new ObjectMapper().readTree(response.body()).fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static void editRoute(Consumer<GRPCRoute> change) {
    await().atMost(BOUND).ignoreExceptions().until(() -> {
      GRPCRoute current = new GRPCRouteBuilder(client.resources(GRPCRoute.class).inNamespace(NAMESPACE)
          .withName("task-service-canary").get()).build();
      change.accept(current);
      client.resource(current).update();
      return true;
    });
  }

  /** Callers sending x-api-version: v2 go to v2; the rest split by weight. */
  private static GRPCRoute route(int v1Weight, int v2Weight) {
    return new GRPCRouteBuilder()
        .withNewMetadata().withName("task-service-canary").withNamespace(NAMESPACE).endMetadata()
        .withNewSpec()
        .addNewParentRef().withGroup("").withKind("Service").withName("task-service").withPort(50051).endParentRef()
        .addNewRule()
        .addNewMatch().addNewHeader().withName("x-api-version").withValue("v2").endHeader().endMatch()
        .addNewBackendRef().withName("task-service-v2").withPort(50051).endBackendRef()
        .endRule()
        .addNewRule()
        .addNewBackendRef().withName("task-service-v1").withPort(50051).withWeight(v1Weight).endBackendRef()
        .addNewBackendRef().withName("task-service-v2").withPort(50051).withWeight(v2Weight).endBackendRef()
        .endRule()
        .endSpec()
        .build();
  }

  private static TaskServer backend() {
    return TaskServer.start(TaskServerOptions.defaults().withPort(0).withBindAddress("127.0.0.1")
        .withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1"));
  }

  private static ServiceKey key(String name) {
    return new ServiceKey(name, NAMESPACE);
  }

  private static Endpoint endpoint(int port) {
    return Endpoint.newBuilder().setAddress("127.0.0.1").setPort(port).setReady(true).build();
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    started.add(resource);
    return resource;
  }
}
