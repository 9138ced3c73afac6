package io.taskmesh.taskservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import io.taskmesh.taskservice.store.SchemaRefusedException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store written by the previous schema (UUID ids, text user ids): carried over in creation order with
 * new integer ids when its user ids are numbers, refused untouched, with what to do, when they are not.
 */
class SchemaMigrationTest {
  private static final long CREATED = 1_700_000_000_000L;

  @Test
  void previousTasksOnH2AreCarriedOverInCreationOrderWithNewIds(@TempDir Path data) throws Exception {
    carriesOver(TaskServerOptions.defaults().withDatabaseUrl("jdbc:h2:file:" + data.resolve("tasks")));
  }

  @Test
  void previousTasksOnPostgresAreCarriedOverInCreationOrderWithNewIds() throws Exception {
    try (EmbeddedPostgres postgres = TestPostgres.start()) {
      carriesOver(TestPostgres.options(postgres));
    }
  }

  @Test
  void aPreviousStoreWithTextUserIdsIsRefusedUnchanged(@TempDir Path data) throws Exception {
    TaskServerOptions options = TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:file:" + data.resolve("tasks"));
    try (Connection db = previousSchema(options)) {
      insertPrevious(db, "0b6f2c1e-0000-4000-8000-000000000001", 1, "ada", "by name");
      insertPrevious(db, "0b6f2c1e-0000-4000-8000-000000000002", 2, "17", "by number");
    }

    assertThatThrownBy(() -> TaskServer.start(options))
        .isInstanceOf(SchemaRefusedException.class)
        .hasMessageContaining("1 task(s) of the previous schema whose user_id is not a positive integer ('ada')")
        .hasMessageContaining("Nothing has been changed")
        .hasMessageContaining("UPDATE tasks SET user_id = '42' WHERE user_id = 'ada'");

    try (Connection db = connect(options);
        ResultSet rows = db.createStatement().executeQuery("SELECT id, user_id FROM tasks ORDER BY seq")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString("id")).as("the old rows are untouched").endsWith("0001");
      assertThat(rows.getString("user_id")).isEqualTo("ada");
    }
  }

  @Test
  void theServiceRefusesToStartOnSuchAStoreExitingWithTheMessage(@TempDir Path data) throws Exception {
    TaskServerOptions options = TaskServerOptions.defaults().withDatabaseUrl("jdbc:h2:file:" + data.resolve("tasks"));
    try (Connection db = previousSchema(options)) {
      insertPrevious(db, "0b6f2c1e-0000-4000-8000-000000000001", 1, "grace", "by name");
    }
    Path log = data.resolve("service.log");
    Process service = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.taskmesh.taskservice.Main",
        "--port", "0", "--bind", "127.0.0.1", "--database-url", options.databaseUrl())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();

    assertThat(service.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
    assertThat(service.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log)).contains("event=start_refused")
        .contains("whose user_id is not a positive integer ('grace')");
  }

  private static void carriesOver(TaskServerOptions store) throws Exception {
    TaskServerOptions options = store.withBindAddress("127.0.0.1").withPort(0);
    try (Connection db = previousSchema(options)) {
      // created in this order (seq), although the UUIDs sort the other way
      insertPrevious(db, "ffffffff-0000-4000-8000-000000000001", 1, "21", "first");
      insertPrevious(db, "00000000-0000-4000-8000-000000000002", 2, "21", "second");
      insertPrevious(db, "88888888-0000-4000-8000-000000000003", 3, "22", "someone else's");
    }

    try (TaskServer server = TaskServer.start(options);
        TaskClient client = TaskClient.connect("127.0.0.1:" + server.port())) {
      List<TaskResponse> user21 = client.list(ListTasksRequest.newBuilder().setUserId(21).build());
      assertThat(user21).extracting(TaskResponse::getTitle).containsExactly("first", "second");
      assertThat(user21).extracting(TaskResponse::getId).containsExactly(1, 2);
      TaskResponse first = user21.get(0);
      assertThat(first.getUserId()).isEqualTo(21);
      assertThat(first.getStatus()).isEqualTo("in_progress");
      assertThat(first.getPriority()).isEqualTo("high");
      assertThat(first.getDescription()).isEqualTo("carried over");
      assertThat(first.getCreatedAt()).isEqualTo("2023-11-14T22:13:20.001Z");
      assertThat(client.get(3).getTitle()).isEqualTo("someone else's");

      assertThat(client.create("after the migration", "", "", 21).getId()).as("new ids follow the carried ones")
          .isEqualTo(4);
    }
    try (Connection db = connect(options);
        PreparedStatement query = db.prepareStatement("SELECT legacy_id FROM tasks WHERE id = 2");
        ResultSet row = query.executeQuery()) {
      assertThat(row.next()).isTrue();
      assertThat(row.getString(1)).as("the previous id is kept").isEqualTo("00000000-0000-4000-8000-000000000002");
    }
  }

  /** A database as the previous release left it: its schema (migrations 1 and 2), no tasks yet. */
  private static Connection previousSchema(TaskServerOptions options) throws SQLException {
    Flyway.configure().dataSource(options.databaseUrl(), options.databaseUser(), options.databasePassword())
        .target("2").load().migrate();
    return connect(options);
  }

  private static void insertPrevious(Connection db, String id, int order, String userId, String title)
      throws SQLException {
    try (PreparedStatement insert = db.prepareStatement("INSERT INTO tasks"
        + " (id, title, description, status, priority, user_id, created_at, updated_at)"
        + " VALUES (?, ?, 'carried over', 'in_progress', 'high', ?, ?, ?)")) {
      insert.setString(1, id);
      insert.setString(2, title);
      insert.setString(3, userId);
      insert.setLong(4, CREATED + order);
      insert.setLong(5, CREATED + order);
      insert.executeUpdate();
    }
  }

  private static Connection connect(TaskServerOptions options) throws SQLException {
    return DriverManager.getConnection(options.databaseUrl(), options.databaseUser(), options.databasePassword());
  }
}
