package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.operator.discovery.DiscoveryLimits;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A peer over a cap of {@link DiscoveryLimits} is refused by name and counted; everyone else keeps working. */
class DiscoveryLimitsTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  private final EndpointRegistry registry = new EndpointRegistry();
  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<AutoCloseable> open = new ArrayList<>();
  private final AtomicInteger pods = new AtomicInteger();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  @Test
  void aRequestOverTheServicesAddressesOrNameLengthCapIsRefusedNamingTheCapAndOthersKeepTheirStream() {
    DiscoveryServer server = start(DiscoveryLimits.DEFAULTS);
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.1")));
    DiscoveryClientFixture wellBehaved = subscriber(server, request(List.of("tasks"), List.of()));
    await().atMost(BOUND).until(() -> wellBehaved.latest("tasks") != null);

    DiscoveryClientFixture tooManyNames = subscriber(server, request(names("svc", 1_001), List.of()));
    DiscoveryClientFixture tooManyAddresses = subscriber(server, request(List.of(), names("10.96.0.", 1_001)));
    DiscoveryClientFixture tooLong = subscriber(server, request(List.of("a".repeat(254)), List.of()));

    assertRefused(tooManyNames, Status.Code.RESOURCE_EXHAUSTED, "cap services");
    assertRefused(tooManyAddresses, Status.Code.RESOURCE_EXHAUSTED, "cap addresses");
    assertRefused(tooLong, Status.Code.INVALID_ARGUMENT, "cap name_length");
    assertThat(refused("services")).isEqualTo(1);
    assertThat(refused("addresses")).isEqualTo(1);
    assertThat(refused("name_length")).isEqualTo(1);
    assertThat(meters.scrape()).contains("taskmesh_discovery_refused_total{reason=\"services\"} 1.0");

    DiscoveryClientFixture atTheCaps = subscriber(server, request(names("svc", 1_000), names("10.96.0.", 1_000)));
    await().atMost(BOUND).until(() -> atTheCaps.received.size() == 2_000);
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.2")));
    await().atMost(BOUND).until(() -> wellBehaved.latest("tasks").getEndpoints(0).getAddress().equals("10.0.0.2"));
    assertThat(wellBehaved.ended.get()).isNull();
    assertThat(atTheCaps.ended.get()).isNull();
  }

  @Test
  void aStreamOverTheCapOfItsConnectionIsRefusedWhileAnotherConnectionStillSubscribes() {
    DiscoveryServer server = start(DiscoveryLimits.DEFAULTS);
    int cap = DiscoveryLimits.DEFAULTS.maxStreamsPerConnection();
    ManagedChannel connection = channel(server);
    List<DiscoveryClientFixture> streams = new ArrayList<>();
    for (int i = 0; i < cap; i++) {
      streams.add(closeLater(new DiscoveryClientFixture(connection, request(List.of("tasks"), List.of()))));
    }
    await().atMost(BOUND).until(() -> streams.stream().allMatch(stream -> !stream.received.isEmpty()));

    DiscoveryClientFixture overCap = closeLater(new DiscoveryClientFixture(connection, request(List.of("tasks"), List.of())));
    assertRefused(overCap, Status.Code.RESOURCE_EXHAUSTED, "cap streams_per_connection");
    assertThat(refused("streams_per_connection")).isEqualTo(1);
    DiscoveryClientFixture otherConnection = subscriber(server, request(List.of("tasks"), List.of()));
    await().atMost(BOUND).until(() -> !otherConnection.received.isEmpty());
    assertThat(streams).allSatisfy(stream -> assertThat(stream.ended.get()).isNull());

    streams.get(0).cancel();
    await().atMost(BOUND).until(() -> server.service().subscribers().size() == cap);
    DiscoveryClientFixture afterOneLeft = closeLater(new DiscoveryClientFixture(connection, request(List.of("tasks"), List.of())));
    await().atMost(BOUND).until(() -> !afterOneLeft.received.isEmpty() || afterOneLeft.ended.get() != null);
    assertThat(afterOneLeft.ended.get()).as("a slot freed on the connection is usable again").isNull();
  }

  /**
   * Without caps, 300 subscriptions of 2,000 names on one connection grew the heap by ~180 MiB. Now each is refused
   * before anything is held for it (or the connection is dropped once its refused streams' resets pass the HTTP/2
   * reset limit); and the most one connection may hold (every stream at every cap) is bounded too. Heap is measured
   * after GC, in this one JVM that runs clients and server.
   */
  @Test
  void threeHundredSubscriptionsOfTwoThousandNamesOnOneConnectionStayUnderAHeapBound() {
    DiscoveryServer server = start(DiscoveryLimits.DEFAULTS);
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.1")));
    DiscoveryClientFixture wellBehaved = subscriber(server, request(List.of("tasks"), List.of()));
    await().atMost(BOUND).until(() -> wellBehaved.latest("tasks") != null);
    long baseline = heapAfterGc();
    ManagedChannel connection = channel(server);
    List<DiscoveryClientFixture> floods = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      floods.add(new DiscoveryClientFixture(connection, request(names("svc" + i + "-", 2_000), List.of())));
    }
    await().atMost(BOUND).until(() -> floods.stream().allMatch(flood -> flood.ended.get() != null));
    long refusedByCap = floods.stream().filter(flood -> flood.ended.get().getCode() == Status.Code.RESOURCE_EXHAUSTED
        && flood.ended.get().getDescription().contains("(cap ")).count();
    // a peer whose refused streams pass the reset limit gets a GOAWAY (ENHANCE_YOUR_CALM) and its connection closes
    long dropped = floods.stream().filter(flood -> flood.ended.get().getCode() == Status.Code.UNAVAILABLE
        || String.valueOf(flood.ended.get().getDescription()).contains("ENHANCE_YOUR_CALM")).count();
    assertThat(refusedByCap + dropped).as("every flood refused by a cap or dropped with its connection").isEqualTo(300);
    // a refusal on its way when the connection broke is counted, though that client saw only the drop
    assertThat(refused("services") + refused("streams_per_connection")).isBetween(refusedByCap, 300L);
    assertThat(floods).allSatisfy(flood -> assertThat(flood.received).isEmpty());
    // the clients' side of the flood (its 600,000 name strings) is let go, so what is left is what the server holds
    floods.forEach(DiscoveryClientFixture::close);
    floods.clear();
    connection.shutdownNow();
    long afterFlood = heapAfterGc() - baseline;

    int cap = DiscoveryLimits.DEFAULTS.maxStreamsPerConnection();
    ManagedChannel full = channel(server);
    List<DiscoveryClientFixture> atCaps = new ArrayList<>();
    for (int i = 0; i < cap; i++) {
      atCaps.add(closeLater(new DiscoveryClientFixture(full,
          request(names("svc" + i + "-", 1_000), names("10.96." + i + ".", 1_000)))));
    }
    await().atMost(BOUND).until(() -> atCaps.stream().allMatch(stream -> stream.received.size() == 2_000));
    long withFullConnection = heapAfterGc() - baseline;
    registry.update(new ServiceKey("tasks", "shop"), List.of(endpoint("10.0.0.2")));
    await().atMost(BOUND).until(() -> wellBehaved.latest("tasks").getEndpoints(0).getAddress().equals("10.0.0.2"));
    System.out.printf("discovery heap: 300 x 2,000-name subscriptions on one connection (%d refused by a cap, %d"
        + " dropped with the connection) +%.1f MiB after GC; then %d streams at the caps (1,000 names + 1,000"
        + " addresses each) +%.1f MiB%n", refusedByCap, dropped, afterFlood / 1048576.0, cap,
        withFullConnection / 1048576.0);
    assertThat(afterFlood).as("heap growth after the refused flood").isLessThan(16L << 20);
    // the test's own clients hold their 32,000 names and the 32,000 sets they received in this JVM too
    assertThat(withFullConnection).as("heap growth with a connection full at every cap").isLessThan(32L << 20);
  }

  private static long heapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      memory.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  private void assertRefused(DiscoveryClientFixture client, Status.Code code, String naming) {
    await().atMost(BOUND).until(() -> client.ended.get() != null);
    assertThat(client.ended.get().getCode()).isEqualTo(code);
    assertThat(client.ended.get().getDescription()).contains(naming);
  }

  private long refused(String reason) {
    var counter = meters.find("taskmesh.discovery.refused").tag("reason", reason).counter();
    return counter == null ? 0 : (long) counter.count();
  }

  private DiscoveryServer start(DiscoveryLimits limits) {
    return closeLater(DiscoveryServer.start("127.0.0.1", 0, registry, new RouteTables(), node -> { }, limits, meters));
  }

  private ManagedChannel channel(DiscoveryServer server) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    open.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return channel;
  }

  private DiscoveryClientFixture subscriber(DiscoveryServer server, SubscribeRequest request) {
    return closeLater(new DiscoveryClientFixture(server.port(), request));
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    open.add(resource);
    return resource;
  }

  /** Each from a pod of its own, so that {@code subscribers()} counts every stream. */
  private SubscribeRequest request(List<String> services, List<String> addresses) {
    return SubscribeRequest.newBuilder()
        .setNode(Node.newBuilder().setPodName("web-" + pods.incrementAndGet()).setNamespace("shop").setService("client").setConfigHash("abc"))
        .addAllServices(services).addAllAddresses(addresses).build();
  }

  private static List<String> names(String prefix, int count) {
    return IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
  }

  private static Endpoint endpoint(String address) {
    return Endpoint.newBuilder().setAddress(address).setPort(50051).setReady(true).build();
  }
}
