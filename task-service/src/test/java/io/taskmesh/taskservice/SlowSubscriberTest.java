package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A subscriber that stops reading must not make the server buffer without bound, nor slow the others:
 * once its small buffer is full it is dropped and told why, while a reading subscriber gets everything.
 */
class SlowSubscriberTest {
  private static final int BUFFER = 16;
  private static final int UPDATES = 400;
  private static final TaskSubscriptionRequest LOAD_USER = TaskSubscriptionRequest.newBuilder().setUserId(5).build();

  @Test
  void aStalledSubscriberIsEndedWithResourceExhaustedWhileAReadingOneGetsEveryUpdate() throws Exception {
    TaskServerOptions options = TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:mem:slow-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")
        .withSubscriberBuffer(BUFFER);
    try (TaskServer server = TaskServer.start(options);
        TaskClient writer = TaskClient.connect("127.0.0.1:" + server.port())) {
      // a small, fixed HTTP/2 window so the stalled reader's transport fills after a few updates
      ManagedChannel stalledChannel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
          .usePlaintext().flowControlWindow(16 * 1024).build();
      AtomicReference<ClientCallStreamObserver<?>> stalledCall = new AtomicReference<>();
      AtomicReference<Status> stalledEnd = new AtomicReference<>();
      TaskServiceGrpc.newStub(stalledChannel).streamTaskUpdates(LOAD_USER,
          new ClientResponseObserver<TaskSubscriptionRequest, TaskUpdateEvent>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<TaskSubscriptionRequest> call) {
              call.disableAutoRequestWithInitial(0);
              stalledCall.set(call);
            }

            @Override
            public void onNext(TaskUpdateEvent event) {
              stalledCall.get().request(1);
            }

            @Override
            public void onError(Throwable error) {
              stalledEnd.set(Status.fromThrowable(error));
            }

            @Override
            public void onCompleted() {
              stalledEnd.set(Status.OK);
            }
          });
      List<TaskUpdateEvent> readerEvents = new CopyOnWriteArrayList<>();
      writer.subscribe(LOAD_USER, readerEvents::add, status -> { });
      await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == 2);

      String description = "d".repeat(2000);
      for (int i = 0; i < UPDATES; i++) {
        writer.create("update " + i, description, "", LOAD_USER.getUserId());
      }

      await().atMost(Duration.ofSeconds(60)).until(() -> readerEvents.size() == UPDATES);
      assertThat(readerEvents).extracting(e -> e.getTask().getTitle()).startsWith("update 0").endsWith("update " + (UPDATES - 1));
      await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == 1);

      stalledCall.get().request(Integer.MAX_VALUE);
      await().atMost(Duration.ofSeconds(30)).until(() -> stalledEnd.get() != null);
      assertThat(stalledEnd.get().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(stalledEnd.get().getDescription()).contains("subscriber too slow").contains("resubscribe");
      stalledChannel.shutdownNow();
    }
  }
}
