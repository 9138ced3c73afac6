package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The gRPC health service tells the truth about the store: a sidecar's /ready depends on it. */
class StoreHealthTest {

  @Test
  void healthTurnsNotServingWhenThePostgresStoreGoesAway() throws Exception {
    EmbeddedPostgres postgres = TestPostgres.start();
    try (TaskServer server = TaskServer.start(TestPostgres.options(postgres).withBindAddress("127.0.0.1").withPort(0))) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      HealthCheckRequest request = HealthCheckRequest.newBuilder().setService(TaskServiceGrpc.SERVICE_NAME).build();
      assertThat(health.check(request).getStatus()).isEqualTo(ServingStatus.SERVING);

      postgres.close();

      await().atMost(Duration.ofSeconds(60)).until(() -> health.check(request).getStatus() == ServingStatus.NOT_SERVING);
      channel.shutdownNow();
    }
  }
}
