package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.sidecar.discovery.EndpointAddress;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Per-request balancing over pooled HTTP/2 connections, and endpoint set changes under traffic. */
class LoadBalancingTest {
  private final MeshFixture mesh = new MeshFixture();

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"P2C_EWMA", "ROUND_ROBIN"})
  void requestsFromOneClientConnectionSpreadOverThreeBackends(String loadBalancer) {
    List<TaskServer> backends = List.of(mesh.backend(), mesh.backend(), mesh.backend());
    Sidecar clientSide = mesh.clientSidecar(loadBalancer,
        backends.stream().mapToInt(TaskServer::port).toArray());
    TaskClient client = mesh.clientThrough(clientSide);

    for (int i = 0; i < 90; i++) {
      client.create("task " + i, "", "low", 5);
    }

    List<Integer> perBackend = new ArrayList<>();
    for (TaskServer backend : backends) {
      perBackend.add(MeshFixture.tasksOn(backend, 5));
    }
    assertThat(perBackend.stream().mapToInt(Integer::intValue).sum()).isEqualTo(90);
    if (loadBalancer.equals("ROUND_ROBIN")) {
      assertThat(perBackend).containsOnly(30);
    } else {
      // P2C favours the faster endpoints, so the split is uneven by design, but never one sticky backend
      assertThat(perBackend).allSatisfy(count -> assertThat(count).isPositive().isLessThan(75));
    }
  }

  @Test
  void addingAndRemovingBackendsUnderTrafficFailsNoRequest() throws Exception {
    TaskServer first = mesh.backend();
    TaskServer second = mesh.backend();
    TaskServer third = mesh.backend();
    Sidecar clientSide = mesh.clientSidecar("P2C_EWMA", first.port(), second.port());
    TaskClient client = mesh.clientThrough(clientSide);

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger succeeded = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> callers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread caller = new Thread(() -> {
        while (running.get()) {
          try {
            client.create("under traffic", "", "low", 6);
            succeeded.incrementAndGet();
          } catch (RuntimeException e) {
            failures.add(e);
          }
        }
      });
      caller.start();
      callers.add(caller);
    }
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> succeeded.get() > 50);
      clientSide.outboundClusters().onEndpoints(MeshFixture.SERVICE, addresses(first, second, third));
      await().atMost(Duration.ofSeconds(30)).until(() -> MeshFixture.tasksOn(third, 6) > 20);

      clientSide.outboundClusters().onEndpoints(MeshFixture.SERVICE, addresses(second, third));
      int firstAfterRemoval = MeshFixture.tasksOn(first, 6);
      int before = succeeded.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> succeeded.get() > before + 100);
      assertThat(MeshFixture.tasksOn(first, 6)).as("a removed backend gets no new requests").isLessThanOrEqualTo(firstAfterRemoval + 4);
      first.close(); // drained: stopping it now fails nothing
      int afterStop = succeeded.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> succeeded.get() > afterStop + 100);
    } finally {
      running.set(false);
      for (Thread caller : callers) {
        caller.join(30_000);
      }
    }
    assertThat(failures).isEmpty();
  }

  private static List<EndpointAddress> addresses(TaskServer... servers) {
    List<EndpointAddress> addresses = new ArrayList<>();
    for (TaskServer server : servers) {
      addresses.add(new EndpointAddress("127.0.0.1", server.port()));
    }
    return addresses;
  }

}
