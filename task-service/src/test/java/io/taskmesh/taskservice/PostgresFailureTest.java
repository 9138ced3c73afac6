package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.client.TaskClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What a caller is told when PostgreSQL fails: whether anything may have been written, never the
 * database's own words; and a watcher is told when its change feed broke, never left to miss changes.
 */
class PostgresFailureTest {
  private static final TaskSubscriptionRequest USER_1 = TaskSubscriptionRequest.newBuilder().setUserId(1).build();

  @Test
  void aCommitThatFailsIsUnknownBecauseTheChangeMayHaveBeenApplied() throws Exception {
    try (EmbeddedPostgres postgres = TestPostgres.start();
        TaskServer server = TaskServer.start(TestPostgres.options(postgres).withBindAddress("127.0.0.1").withPort(0));
        TaskClient client = TaskClient.connect("127.0.0.1:" + server.port(), null, Duration.ofSeconds(30));
        Connection admin = postgres.getPostgresDatabase().getConnection();
        Statement sql = admin.createStatement()) {
      // a deferred constraint trigger runs at COMMIT: the only way to make a real commit fail on demand
      sql.execute("CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
          + " IF NEW.title = 'fails at commit' THEN RAISE EXCEPTION 'internal detail 4711'; END IF;"
          + " RETURN NULL; END $$");
      sql.execute("CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON tasks DEFERRABLE INITIALLY DEFERRED"
          + " FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()");

      Status failed = statusOf(() -> client.create("fails at commit", "", "", 1));

      assertThat(failed.getCode()).isEqualTo(Status.Code.UNKNOWN);
      assertThat(failed.getDescription()).contains("the change may have been applied").doesNotContain("4711");
      assertThat(client.create("commits", "", "", 1).getTitle()).isEqualTo("commits");
    }
  }

  @Test
  void aStoreThatCannotBeReachedIsUnavailableWithNothingWrittenAndNoDatabaseText() throws Exception {
    EmbeddedPostgres postgres = TestPostgres.start();
    try (TaskServer server = TaskServer.start(TestPostgres.options(postgres).withBindAddress("127.0.0.1").withPort(0));
        TaskClient client = TaskClient.connect("127.0.0.1:" + server.port(), null, Duration.ofSeconds(30))) {
      postgres.close();

      Status write = statusOf(() -> client.create("nowhere to go", "", "", 1));
      Status read = statusOf(() -> client.get(1));

      assertThat(write.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(write.getDescription()).isEqualTo("task store unavailable; nothing was written");
      assertThat(read.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(read.getDescription()).isEqualTo("task store unavailable; nothing was written");
    }
  }

  @Test
  void whenTheChangeFeedLosesItsConnectionWatchersAreToldTheyMayHaveMissedUpdatesAndCanResubscribe()
      throws Exception {
    try (EmbeddedPostgres postgres = TestPostgres.start();
        TaskServer server = TaskServer.start(TestPostgres.options(postgres).withBindAddress("127.0.0.1").withPort(0));
        TaskClient client = TaskClient.connect("127.0.0.1:" + server.port());
        Connection admin = postgres.getPostgresDatabase().getConnection();
        Statement sql = admin.createStatement()) {
      AtomicReference<Status> ended = new AtomicReference<>();
      client.subscribe(USER_1, event -> { }, ended::set);
      await().atMost(Duration.ofSeconds(30)).until(() -> server.subscriberCount() == 1);

      sql.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'taskmesh-change-feed'");

      await().atMost(Duration.ofSeconds(30)).until(() -> ended.get() != null);
      assertThat(ended.get().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(ended.get().getDescription()).contains("lost its database connection")
          .contains("may have been missed").contains("resubscribe");

      List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> subscribed(client, server, events));
      client.create("after the reconnect", "", "", 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> !events.isEmpty());
      assertThat(events.get(0).getTask().getTitle()).isEqualTo("after the reconnect");
    }
  }

  /** One try: true when the subscription is live; false when it was refused while the feed reconnects. */
  private static boolean subscribed(TaskClient client, TaskServer server, List<TaskUpdateEvent> events) {
    AtomicReference<Status> refused = new AtomicReference<>();
    client.subscribe(USER_1, events::add, refused::set);
    await().atMost(Duration.ofSeconds(30)).until(() -> refused.get() != null || server.subscriberCount() == 1);
    if (refused.get() != null) {
      assertThat(refused.get().getDescription()).contains("reconnects");
      return false;
    }
    return true;
  }

  private static Status statusOf(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
    throw new AssertionError("the call succeeded");
  }
}
