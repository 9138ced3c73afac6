package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Two replicas on one PostgreSQL: a subscriber must not care which replica took the write. */
class CrossReplicaTest {

  @Test
  void aWriteOnOneReplicaReachesSubscribersOfTheOtherInCommitOrder() throws Exception {
    try (EmbeddedPostgres postgres = TestPostgres.start();
        TaskServer first = TaskServer.start(TestPostgres.options(postgres).withBindAddress("127.0.0.1").withPort(0));
        TaskServer second = TaskServer.start(TestPostgres.options(postgres).withBindAddress("127.0.0.1").withPort(0));
        TaskClient onFirst = TaskClient.connect("127.0.0.1:" + first.port());
        TaskClient onSecond = TaskClient.connect("127.0.0.1:" + second.port())) {
      List<TaskUpdateEvent> seenOnSecond = new CopyOnWriteArrayList<>();
      onSecond.subscribe(TaskSubscriptionRequest.newBuilder().setUserId(7).build(), seenOnSecond::add, s -> { });
      await().atMost(Duration.ofSeconds(30)).until(() -> second.subscriberCount() == 1);

      TaskResponse task = onFirst.create("written on the first replica", "", "", 7);
      onSecond.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("in_progress").build());
      onFirst.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("done").build());
      onSecond.delete(task.getId());

      await().atMost(Duration.ofSeconds(30)).until(() -> seenOnSecond.size() == 4);
      assertThat(seenOnSecond).extracting(TaskUpdateEvent::getEventType)
          .containsExactly("created", "updated", "updated", "deleted");
      assertThat(seenOnSecond).extracting(e -> e.getTask().getStatus())
          .containsExactly("todo", "in_progress", "done", "done");
      assertThat(onSecond.list(io.taskmesh.taskservice.api.ListTasksRequest.newBuilder().setUserId(7).build()))
          .isEmpty();
    }
  }
}
