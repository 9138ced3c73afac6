package io.taskmesh.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.discovery.v1.Node;
import io.taskmesh.sidecar.discovery.OnDemandDiscovery.Resolution;
import io.taskmesh.sidecar.support.FakeControlPlane;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Subscribing on first use, waiting a bounded time for the answer, and dropping what is no longer called. */
class OnDemandDiscoveryTest {
  private static final Duration BOUND = Duration.ofSeconds(30);
  private final FakeControlPlane controlPlane = new FakeControlPlane(0);
  private final ControlPlaneEndpointSource source = new ControlPlaneEndpointSource("127.0.0.1:" + controlPlane.port(),
      Node.newBuilder().setNamespace("shop").setConfigHash("h1").build(), List.of(), Duration.ofMillis(50),
      Duration.ofMillis(500));
  private final AtomicLong now = new AtomicLong();
  private final List<String> dropped = new CopyOnWriteArrayList<>();
  private final OnDemandDiscovery discovery = new OnDemandDiscovery(source, dropped::add, Duration.ofSeconds(10),
      Duration.ofMillis(200), now::get);

  @AfterEach
  void stop() throws Exception {
    discovery.close();
    source.close();
    controlPlane.close();
  }

  @Test
  void aServiceCalledOnceIsSubscribedThenDroppedWhenNoLongerCalledButAPinnedOneStays() throws Exception {
    List<String> held = new CopyOnWriteArrayList<>();
    source.start((service, endpoints) -> held.add(service));
    discovery.pin(Set.of("billing"));

    var answer = discovery.resolve("orders", Duration.ofSeconds(5));
    await().atMost(BOUND).until(() -> lastRequestNames().contains("orders"));
    controlPlane.announce("orders", 1, 1234);

    assertThat(answer.get(10, TimeUnit.SECONDS)).isEqualTo(Resolution.FOUND);
    assertThat(held).contains("orders");

    now.addAndGet(Duration.ofMillis(300).toNanos());
    await().atMost(BOUND).until(() -> dropped.contains("orders"));
    await().atMost(BOUND).until(() -> !lastRequestNames().contains("orders"));
    assertThat(lastRequestNames()).as("the config's services are never dropped").contains("billing");
    assertThat(dropped).doesNotContain("billing");
  }

  @Test
  void noAnswerWithinTheCallersDeadlineEndsTheWaitThere() throws Exception {
    source.start((service, endpoints) -> { });
    long started = System.nanoTime();

    Resolution resolution = discovery.resolve("silent", Duration.ofMillis(100)).get(10, TimeUnit.SECONDS);

    assertThat(resolution).isEqualTo(Resolution.NO_ANSWER);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).as("bounded by the caller's 100 ms, not the 10 s cap")
        .isLessThan(Duration.ofSeconds(5));
  }

  private List<String> lastRequestNames() {
    var requests = controlPlane.subscriptions();
    return requests.isEmpty() ? List.of() : requests.get(requests.size() - 1).getServicesList();
  }
}
