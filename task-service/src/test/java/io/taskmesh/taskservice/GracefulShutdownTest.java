package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

  @Test
  void shuttingDownEndsUpdateStreamsWithUnavailableSoClientsResubscribeElsewhere() {
    TaskServer server = TaskServer.start(TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:mem:shutdown-" + UUID.randomUUID()));
    try (TaskClient client = TaskClient.connect("127.0.0.1:" + server.port())) {
      AtomicReference<Status> ended = new AtomicReference<>();
      client.subscribe(TaskSubscriptionRequest.newBuilder().setUserId(1).build(), event -> { }, ended::set);
      await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == 1);

      server.close();

      await().atMost(Duration.ofSeconds(30)).until(() -> ended.get() != null);
      assertThat(ended.get().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(ended.get().getDescription()).contains("shutting down");
    }
  }
}
