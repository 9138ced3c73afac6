package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.proxytest.PatienceGrpc;
import io.taskmesh.sidecar.proxytest.WaitRequest;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.PatienceBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A service routed by rules (the GRPCRoute shape of {@code outbound.routes}): two versions behind one name,
 * split by weight per request, with a header match that pins a caller to one version.
 */
class TrafficSplitTest {
  private final MeshFixture mesh = new MeshFixture();
  private ManagedChannel channel;
  private PatienceBackend v1;
  private PatienceBackend v2;
  private Sidecar caller;

  @BeforeEach
  void start() {
    v1 = mesh.closeLater(new PatienceBackend("v1", 0));
    v2 = mesh.closeLater(new PatienceBackend("v2", 0));
    caller = mesh.sidecar(config(90, 10));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", caller.outboundPort()).overrideAuthority("patience")
        .usePlaintext().build();
  }

  private MeshConfig config(int v1Weight, int v2Weight) {
    return MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {static: {patience-v1: ["127.0.0.1:%d"], patience-v2: ["127.0.0.1:%d"]}}
          routes:
            patience:
              rules:
                - matches: [{headers: [{name: x-api-version, value: v2}]}]
                  backends: [{service: patience-v2}]
                - backends: [{service: patience-v1, weight: %d}, {service: patience-v2, weight: %d}]
                  requestHeaders: {set: [{name: x-routed-by, value: canary-split}]}
        admin: {port: 0}
        """.formatted(v1.port(), v2.port(), v1Weight, v2Weight));
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    mesh.close();
  }

  @Test
  void weightsOf90And10SendNinetyPercentOfTheCallsToV1() {
    Map<String, Integer> servedBy = callsServedBy(PatienceGrpc.newBlockingStub(channel), 2_000);

    assertThat(servedBy.getOrDefault("v1", 0)).as("calls served by v1 of 2,000").isBetween(1_740, 1_860);
    assertThat(servedBy.getOrDefault("v1", 0) + servedBy.getOrDefault("v2", 0)).isEqualTo(2_000);
    assertThat(v1.lastHeader("x-routed-by")).as("the rule's header change").isEqualTo("canary-split");
  }

  @Test
  void aHeaderMatchPinsTheCallerToV2() {
    Metadata pin = new Metadata();
    pin.put(Metadata.Key.of("x-api-version", Metadata.ASCII_STRING_MARSHALLER), "v2");

    Map<String, Integer> servedBy = callsServedBy(PatienceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(pin)), 200);

    assertThat(servedBy).containsExactly(Map.entry("v2", 200));
    assertThat(v2.lastHeader("x-routed-by")).as("the pinning rule changes no header").isNull();
    assertThat(v2.lastHeader("x-api-version")).isEqualTo("v2");
  }

  @Test
  void shiftingTheWeightsUnderLoadFailsNoCallAndEndsWithEveryCallOnV2() throws Exception {
    PatienceGrpc.PatienceBlockingStub stub = PatienceGrpc.newBlockingStub(channel);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger calls = new AtomicInteger();
    ExecutorService load = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      workers.add(load.submit(() -> {
        while (running.get() && calls.get() < 20_000) {
          stub.withDeadlineAfter(10, TimeUnit.SECONDS).look(WaitRequest.getDefaultInstance()); // a failure ends the test
          calls.incrementAndGet();
        }
        return null;
      }));
    }
    try {
      for (int[] weights : new int[][] {{100, 0}, {90, 10}, {50, 50}, {10, 90}, {0, 100}}) {
        int before = calls.get();
        caller.apply(config(weights[0], weights[1]));
        await().atMost(Duration.ofSeconds(30))
            .until(() -> calls.get() >= before + 200 || workers.stream().anyMatch(Future::isDone)); // done: failed
      }
    } finally {
      running.set(false);
      load.shutdown();
    }
    for (Future<?> worker : workers) {
      worker.get(30, TimeUnit.SECONDS); // rethrows the first failed call, if any
    }

    assertThat(callsServedBy(stub, 100)).as("after the shift to 0/100").containsExactly(Map.entry("v2", 100));
  }

  private static Map<String, Integer> callsServedBy(PatienceGrpc.PatienceBlockingStub stub, int calls) {
    Map<String, Integer> servedBy = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      String name = stub.withDeadlineAfter(10, TimeUnit.SECONDS).look(WaitRequest.getDefaultInstance()).getServedBy();
      servedBy.merge(name, 1, Integer::sum);
    }
    return servedBy;
  }
}
