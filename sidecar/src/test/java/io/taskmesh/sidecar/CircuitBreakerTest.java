package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The whole service failing opens the client sidecar's circuit; its recovery closes it again. */
class CircuitBreakerTest {

  @Test
  void allBackendsFailingOpensTheCircuitWhichFailsFastThenClosesWhenTheyRecover() throws Exception {
    TaskServerOptions appOptions = TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:mem:breaker-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    TaskServer app = TaskServer.start(appOptions);
    int appPort = app.port();
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar server = mesh.serverSidecar(appPort);
      Sidecar caller = mesh.callerWithDefaults(
          "{circuitBreaker: {failureRateThreshold: 50, minimumCalls: 4, slidingWindow: 4, waitInOpen: 10s, permittedInHalfOpen: 2}}",
          server.inboundPort());
      TaskClient client = mesh.clientThrough(caller);
      TaskResponse task = client.create("keep me", "", "", 10);

      app.close(); // the whole service is down: the server sidecar answers UNAVAILABLE (connect refused)
      for (int i = 0; i < 4; i++) {
        assertThat(code(() -> client.get(task.getId()))).isEqualTo(Status.Code.UNAVAILABLE);
      }
      assertThat(breakerState(caller)).isEqualTo(1.0);

      double reachedServerBefore = inboundRequests(server);
      StatusRuntimeException fastFail = failure(() -> client.get(task.getId()));
      assertThat(fastFail.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(fastFail.getStatus().getDescription()).contains("client-sidecar").contains("circuit open");
      assertThat(fastFail.getTrailers().get(Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER)))
          .contains("reason=circuit_open");
      assertThat(inboundRequests(server)).as("an open circuit sends nothing upstream").isEqualTo(reachedServerBefore);

      app = TaskServer.start(appOptions.withPort(appPort)); // the service recovers; trial calls flow after waitInOpen
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
          .until(() -> client.get(task.getId()).equals(task));
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
        client.get(task.getId());
        return breakerState(caller) == 0.0;
      });
    } finally {
      app.close();
    }
  }

  private static double inboundRequests(Sidecar server) {
    return new AdminClient(server.adminPort()).metricSum("taskmesh_requests_total", "direction=\"inbound\"");
  }

  private static double breakerState(Sidecar caller) {
    return new AdminClient(caller.adminPort()).metricSum("taskmesh_circuit_breaker_state", "service=\"task-service\"");
  }

  private static Status.Code code(Runnable call) {
    return failure(call).getStatus().getCode();
  }

  private static StatusRuntimeException failure(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }
}
