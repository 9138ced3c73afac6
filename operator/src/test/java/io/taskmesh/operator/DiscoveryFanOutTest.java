package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.operator.discovery.DiscoveryLimits;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * 1,000 subscribers over real gRPC (100 connections of 10 streams on 127.0.0.1) get an endpoint change: each change
 * is built once and shared, only the changed service is pushed, bursts are debounced, and the delivery latency is
 * measured from the registry update to each subscriber's receipt.
 */
class DiscoveryFanOutTest {
  private static final Duration BOUND = Duration.ofSeconds(60);
  private static final int CONNECTIONS = 100;
  private static final int STREAMS_PER_CONNECTION = 10;
  private static final int SUBSCRIBERS = CONNECTIONS * STREAMS_PER_CONNECTION;
  private static final ServiceKey TASKS = new ServiceKey("tasks", "shop");
  private static final ServiceKey BILLING = new ServiceKey("billing", "shop");

  private final EndpointRegistry registry = new EndpointRegistry();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private DiscoveryServer server;

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.close();
  }

  @Test
  void aThousandSubscribersGetEachChangeBuiltOnceWithinTheDeliveryBound() {
    server = DiscoveryServer.start("127.0.0.1", 0, registry, new RouteTables(), node -> { }, DiscoveryLimits.DEFAULTS, meters);
    registry.update(TASKS, List.of(endpoint("10.0.0.1")));
    registry.update(BILLING, List.of(endpoint("10.1.0.1")));
    List<Subscriber> subscribers = new ArrayList<>();
    for (int c = 0; c < CONNECTIONS; c++) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      channels.add(channel);
      for (int s = 0; s < STREAMS_PER_CONNECTION; s++) {
        subscribers.add(new Subscriber(channel, "web-" + c + "-" + s, "tasks"));
      }
    }
    Subscriber billingOnly = new Subscriber(channels.get(0), "billing-client", "billing");
    await().atMost(BOUND).until(() -> subscribers.stream().allMatch(s -> s.received.get() == 1)
        && billingOnly.received.get() == 1);

    int warmUp = 1;
    int rounds = 5;
    long[] latencies = new long[rounds * SUBSCRIBERS];
    for (int round = -warmUp; round < rounds; round++) {
      double builtBefore = built();
      int expected = round + 2 + warmUp;
      long changedAt = System.nanoTime();
      registry.update(TASKS, List.of(endpoint("10.0.0." + (round + 2 + warmUp))));
      await().atMost(BOUND).until(() -> subscribers.stream().allMatch(s -> s.received.get() == expected));
      assertThat(built() - builtBefore).as("one message built for the change, shared by 1,000 streams").isEqualTo(1);
      if (round < 0) {
        continue; // the first change also warms the JIT up; it is not measured
      }
      for (int i = 0; i < SUBSCRIBERS; i++) {
        latencies[round * SUBSCRIBERS + i] = subscribers.get(i).lastAt.get() - changedAt;
      }
    }
    assertThat(billingOnly.received.get()).as("a subscriber of another service is not pushed").isEqualTo(1);
    Arrays.sort(latencies);
    double p50 = latencies[latencies.length / 2] / 1e6;
    double p99 = latencies[(int) Math.ceil(latencies.length * 0.99) - 1] / 1e6;
    double max = latencies[latencies.length - 1] / 1e6;
    System.out.printf("discovery fan-out: %d subscribers x %d changes (after %d unmeasured), debounce %d ms:"
        + " p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", SUBSCRIBERS, rounds, warmUp, DiscoveryLimits.DEFAULTS.debounce().toMillis(), p50, p99, max);
    assertThat(p99).as("p99 delivery latency (ms), a generous bound for a loaded machine").isLessThan(5_000);
  }

  @Test
  void aBurstOfChangesIsDebouncedIntoFewPushesEndingWithTheLastState() {
    server = DiscoveryServer.start("127.0.0.1", 0, registry, new RouteTables(), node -> { }, DiscoveryLimits.DEFAULTS, meters);
    registry.update(TASKS, List.of(endpoint("10.0.0.1")));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    channels.add(channel);
    Subscriber subscriber = new Subscriber(channel, "web-1", "tasks");
    await().atMost(BOUND).until(() -> subscriber.received.get() == 1);

    int burst = 200;
    for (int i = 0; i < burst; i++) {
      registry.update(TASKS, List.of(endpoint("10.0.1." + i)));
    }

    await().atMost(BOUND).until(() -> subscriber.last.get() != null
        && subscriber.last.get().getEndpoints(0).getAddress().equals("10.0.1." + (burst - 1)));
    assertThat(built()).as("sets built for a burst of " + burst + " changes").isLessThan(burst);
    assertThat(subscriber.received.get() - 1).isLessThan(burst);
  }

  private double built() {
    return meters.get("taskmesh.discovery.sets.built").counter().count();
  }

  private static Endpoint endpoint(String address) {
    return Endpoint.newBuilder().setAddress(address).setPort(50051).setReady(true).build();
  }

  /** One sidecar's stream: how many sets it got, the last one and when (System.nanoTime). */
  private static final class Subscriber {
    final AtomicInteger received = new AtomicInteger();
    final AtomicLong lastAt = new AtomicLong();
    final AtomicReference<EndpointSet> last = new AtomicReference<>();

    Subscriber(ManagedChannel channel, String pod, String service) {
      EndpointDiscoveryGrpc.newStub(channel).subscribe(new StreamObserver<EndpointSet>() {
        @Override
        public void onNext(EndpointSet set) {
          lastAt.set(System.nanoTime());
          last.set(set);
          received.incrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
        }
      }).onNext(SubscribeRequest.newBuilder()
          .setNode(Node.newBuilder().setPodName(pod).setNamespace("shop").setConfigHash("abc"))
          .addServices(service).build());
    }
  }
}
