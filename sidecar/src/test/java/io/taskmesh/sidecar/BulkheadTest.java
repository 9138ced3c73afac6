package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.BogusCalls;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The server sidecar's bulkheads, watched with real open watches: {@code inbound.maxConcurrentRequests} for unary
 * calls, {@code inbound.maxConcurrentStreamingRequests} for streams, so watches never starve unary calls.
 */
class BulkheadTest {
  private static final TaskSubscriptionRequest WATCH = TaskSubscriptionRequest.newBuilder().setUserId(8).build();
  private static final Metadata.Key<String> ERROR_HEADER =
      Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void openWatchesHoldStreamPermitsOnlySoUnaryCallsGoOnAndClosingOneLetsExactlyOneMoreWatchIn() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      TaskServer app = mesh.backend();
      TaskResponse task = mesh.directClient(app).create("bulkhead", "", "", 8);
      Sidecar server = mesh.sidecar(MeshConfigParser.parse("""
          service: %s
          inbound: {port: 0, appPort: %d, maxConcurrentRequests: 2, maxConcurrentStreamingRequests: 2}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(MeshFixture.SERVICE, app.port())));
      TaskClient client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + server.inboundPort()));
      AdminClient admin = new AdminClient(server.adminPort());
      BogusCalls.awaitAppMethodsLearnt(server.inboundPort(), admin);

      TaskClient.Subscription first = client.subscribe(WATCH, e -> { },
          s -> { });
      TaskClient.Subscription second = client.subscribe(WATCH, e -> { },
          s -> { });
      await().atMost(Duration.ofSeconds(30)).until(() -> app.subscriberCount() == 2);

      for (int i = 0; i < 5; i++) {
        assertThat(client.get(task.getId())).isEqualTo(task); // the watches took no unary permit
      }
      AtomicReference<Status> thirdWatchEnd = new AtomicReference<>();
      client.subscribe(WATCH, e -> { }, thirdWatchEnd::set);
      await().atMost(Duration.ofSeconds(30)).until(() -> thirdWatchEnd.get() != null);
      assertThat(thirdWatchEnd.get().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(thirdWatchEnd.get().getDescription()).startsWith(
          "server-sidecar: service 'task-service': too many concurrent streaming requests: the limit is 2");

      assertThat(admin.metricSum("taskmesh_inbound_requests_active")).isEqualTo(2.0);
      first.cancel(); // a reset stream gives its permit back
      await().atMost(Duration.ofSeconds(30)).until(() -> admin.metricSum("taskmesh_inbound_requests_active") == 1.0);
      AtomicReference<Status> replacementEnd = new AtomicReference<>();
      TaskClient.Subscription replacement = client.subscribe(WATCH,
          e -> { }, replacementEnd::set);
      await().atMost(Duration.ofSeconds(30)).until(() -> app.subscriberCount() == 2);
      assertThat(replacementEnd.get()).isNull();

      // the permit came back once, not twice (and the refused watch gave back none it did not have)
      AtomicReference<Status> oneTooMany = new AtomicReference<>();
      client.subscribe(TaskSubscriptionRequest.newBuilder().setUserId(8).build(), e -> { }, oneTooMany::set);
      await().atMost(Duration.ofSeconds(30)).until(() -> oneTooMany.get() != null);
      assertThat(oneTooMany.get().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

      second.cancel();
      replacement.cancel();
      await().atMost(Duration.ofSeconds(30)).until(() -> admin.metricSum("taskmesh_inbound_requests_active") == 0.0);
      assertThat(admin.metricSum("taskmesh_concurrency_limited_total", "service=\"task-service\"")).isEqualTo(2.0);
    }
  }

  @Test
  void unaryCallsOverTheirLimitAreRefusedNamingIt() throws Exception {
    try (MeshFixture mesh = new MeshFixture()) {
      TaskServer app = mesh.backend();
      Sidecar server = mesh.sidecar(MeshConfigParser.parse("""
          service: %s
          inbound: {port: 0, appPort: %d, maxConcurrentRequests: 1}
          outbound: {port: 0}
          admin: {port: 0}
          """.formatted(MeshFixture.SERVICE, app.port())));
      AdminClient admin = new AdminClient(server.adminPort());
      BogusCalls.awaitAppMethodsLearnt(server.inboundPort(), admin);
      TaskClient client = mesh.closeLater(TaskClient.connect("127.0.0.1:" + server.inboundPort()));
      // a unary call still in progress holds the one permit: its headers are sent, its message never is
      io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
          .forAddress("127.0.0.1", server.inboundPort()).usePlaintext().build();
      try {
        io.grpc.ClientCall<byte[], byte[]> held = channel.newCall(io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING) // so the client sends its headers at once
            .setFullMethodName("taskservice.TaskService/GetTask")
            .setRequestMarshaller(io.taskmesh.sidecar.support.RawBytesMarshaller.INSTANCE)
            .setResponseMarshaller(io.taskmesh.sidecar.support.RawBytesMarshaller.INSTANCE).build(),
            io.grpc.CallOptions.DEFAULT);
        held.start(new io.grpc.ClientCall.Listener<>() { }, new Metadata());
        held.request(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> admin.metricSum("taskmesh_inbound_requests_active") == 1.0);

        StatusRuntimeException refused = catchThrowableOfType(() -> client.get(424242), StatusRuntimeException.class);
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(refused.getStatus().getDescription())
            .startsWith("server-sidecar: service 'task-service': too many concurrent requests: the limit is 1");
        assertThat(refused.getTrailers().get(ERROR_HEADER)).contains("reason=max_concurrent_requests");
        held.cancel("done", null);
      } finally {
        channel.shutdownNow();
      }
    }
  }
}
