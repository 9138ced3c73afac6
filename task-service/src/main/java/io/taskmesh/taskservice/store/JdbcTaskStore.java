package io.taskmesh.taskservice.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.taskmesh.taskservice.TaskRules;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks in a JDBC database: H2 (embedded, one replica) or PostgreSQL (shared by several replicas). The
 * schema is migrated by Flyway at open; ids come from the table's identity column, so every replica
 * draws from one sequence. Changes are announced in commit order: on H2 by committing and announcing
 * under one lock, on PostgreSQL through the {@link PostgresChangeFeed}.
 */
public final class JdbcTaskStore implements TaskStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcTaskStore.class);
  private static final DateTimeFormatter ISO_UTC_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final String COLUMNS =
      "id, title, description, priority, status, user_id, project_id, created_at, updated_at";

  private final HikariDataSource dataSource;
  private final Clock clock;
  private final PostgresChangeFeed feed;
  private final Object commitOrder = new Object();
  private final ForwardingListener listener = new ForwardingListener();

  private JdbcTaskStore(HikariDataSource dataSource, Clock clock, DatabaseUrl url) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.feed = url.isPostgres() ? PostgresChangeFeed.start(url, clock, listener) : null;
  }

  /**
   * Connects, migrates the schema, and (on PostgreSQL) starts listening for every replica's changes.
   *
   * @throws SchemaRefusedException when the data cannot be migrated faithfully; the message says what to do
   */
  public static JdbcTaskStore open(DatabaseUrl url, Clock clock) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url.jdbcUrl());
    url.user().ifPresent(config::setUsername);
    url.password().ifPresent(config::setPassword);
    config.setMaximumPoolSize(url.isPostgres() ? 16 : 8);
    config.setPoolName("task-store");
    config.setConnectionTimeout(5_000);
    config.setInitializationFailTimeout(30_000);
    HikariDataSource dataSource = new HikariDataSource(config);
    try {
      migrate(dataSource);
      log.info("event=store_opened url={} engine={}", url.redacted(), url.isPostgres() ? "postgresql" : "h2");
      return new JdbcTaskStore(dataSource, clock, url);
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
  }

  private static void migrate(HikariDataSource dataSource) {
    try {
      Flyway.configure().dataSource(dataSource).javaMigrations(new V3IntegerIds()).load().migrate();
    } catch (FlywayException e) {
      for (Throwable cause = e; cause != null; cause = cause.getCause()) {
        if (cause instanceof SchemaRefusedException refused) {
          throw refused;
        }
      }
      throw e;
    }
  }

  @Override
  public TaskResponse create(NewTask task) {
    long now = clock.millis();
    return write(TaskRules.CREATED, connection -> {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO tasks (title, description, priority, status, user_id, project_id, created_at, updated_at)"
              + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
        insert.setString(1, task.title());
        insert.setString(2, task.description());
        insert.setString(3, task.priority());
        insert.setString(4, task.status());
        insert.setInt(5, task.userId());
        if (task.projectId() == 0) {
          insert.setNull(6, Types.INTEGER);
        } else {
          insert.setInt(6, task.projectId());
        }
        insert.setLong(7, now);
        insert.setLong(8, now);
        insert.executeUpdate();
        try (ResultSet keys = insert.getGeneratedKeys()) {
          if (!keys.next()) {
            throw new SQLException("the database issued no id for the new task");
          }
          return Optional.of(TaskResponse.newBuilder()
              .setId(keys.getInt("id"))
              .setTitle(task.title())
              .setDescription(task.description())
              .setPriority(task.priority())
              .setStatus(task.status())
              .setUserId(task.userId())
              .setProjectId(task.projectId())
              .setCreatedAt(format(now))
              .setUpdatedAt(format(now))
              .build());
        }
      }
    }).orElseThrow();
  }

  @Override
  public Optional<TaskResponse> get(int id) {
    return read(connection -> find(connection, id, false));
  }

  @Override
  public Optional<TaskResponse> update(int id, TaskPatch patch) {
    if (patch.isEmpty()) {
      return get(id);
    }
    return write(TaskRules.UPDATED, connection -> {
      Optional<TaskResponse> current = find(connection, id, true);
      if (current.isEmpty()) {
        return current;
      }
      TaskResponse before = current.get();
      long now = clock.millis();
      TaskResponse after = before.toBuilder()
          .setTitle(patch.title() != null ? patch.title() : before.getTitle())
          .setDescription(patch.description() != null ? patch.description() : before.getDescription())
          .setPriority(patch.priority() != null ? patch.priority() : before.getPriority())
          .setStatus(patch.status() != null ? patch.status() : before.getStatus())
          .setUpdatedAt(format(now))
          .build();
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE tasks SET title = ?, description = ?, priority = ?, status = ?, updated_at = ? WHERE id = ?")) {
        update.setString(1, after.getTitle());
        update.setString(2, after.getDescription());
        update.setString(3, after.getPriority());
        update.setString(4, after.getStatus());
        update.setLong(5, now);
        update.setInt(6, id);
        update.executeUpdate();
      }
      return Optional.of(after);
    });
  }

  @Override
  public Optional<TaskResponse> delete(int id) {
    return write(TaskRules.DELETED, connection -> {
      Optional<TaskResponse> current = find(connection, id, true);
      if (current.isPresent()) {
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM tasks WHERE id = ?")) {
          delete.setInt(1, id);
          delete.executeUpdate();
        }
      }
      return current;
    });
  }

  @Override
  public List<TaskResponse> list(int userId, String status, int limit, int offset) {
    String sql = "SELECT " + COLUMNS + " FROM tasks WHERE user_id = ?" + (status != null ? " AND status = ?" : "")
        + " ORDER BY id LIMIT ? OFFSET ?";
    return read(connection -> {
      try (PreparedStatement query = connection.prepareStatement(sql)) {
        int index = 1;
        query.setInt(index++, userId);
        if (status != null) {
          query.setString(index++, status);
        }
        query.setInt(index++, limit);
        query.setInt(index, offset);
        List<TaskResponse> tasks = new ArrayList<>();
        try (ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            tasks.add(task(rows));
          }
        }
        return tasks;
      }
    });
  }

  @Override
  public void checkHealth() {
    read(connection -> {
      try (PreparedStatement ping = connection.prepareStatement("SELECT 1")) {
        ping.setQueryTimeout(2);
        ping.executeQuery().close();
      }
      return null;
    });
  }

  @Override
  public void onChange(ChangeListener listener) {
    this.listener.target = listener;
  }

  @Override
  public void close() {
    if (feed != null) {
      feed.close();
    }
    dataSource.close();
  }

  private interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private <T> T read(Work<T> work) {
    try (Connection connection = dataSource.getConnection()) {
      return work.run(connection);
    } catch (SQLException e) {
      throw StoreException.nothingWritten("task store query failed: " + e.getMessage(), e);
    }
  }

  /** Runs {@code work} in one transaction and announces its result as a change of {@code eventType}. */
  private Optional<TaskResponse> write(String eventType, Work<Optional<TaskResponse>> work) {
    if (feed != null) {
      return inTransaction(connection -> {
        Optional<TaskResponse> changed = work.run(connection);
        if (changed.isPresent()) {
          feed.recordInTransaction(connection, event(eventType, changed.get()));
        }
        return changed;
      });
    }
    synchronized (commitOrder) {
      Optional<TaskResponse> changed = inTransaction(work);
      changed.ifPresent(task -> listener.changed(event(eventType, task)));
      return changed;
    }
  }

  /**
   * Runs {@code work} in one transaction. A failure before the commit rolls back: nothing was written. A
   * failure of the commit itself leaves the outcome unknown, and says so.
   */
  private <T> T inTransaction(Work<T> work) {
    Connection connection;
    try {
      connection = dataSource.getConnection();
    } catch (SQLException e) {
      throw StoreException.nothingWritten("task store unreachable: " + e.getMessage(), e);
    }
    try {
      T result;
      try {
        connection.setAutoCommit(false);
        result = work.run(connection);
      } catch (SQLException | RuntimeException e) {
        rollback(connection);
        throw e instanceof SQLException ? StoreException.nothingWritten("task store write failed: " + e.getMessage(), e)
            : (RuntimeException) e;
      }
      try {
        connection.commit();
      } catch (SQLException e) {
        throw StoreException.outcomeUnknown("task store commit failed: " + e.getMessage(), e);
      }
      return result;
    } finally {
      release(connection);
    }
  }

  private static void rollback(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      // the transaction never committed; the database discards it with the broken connection
      log.warn("event=store_rollback_failed error=\"{}\"", e.getMessage());
    }
  }

  private static void release(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      log.warn("event=store_connection_close_failed error=\"{}\"", e.getMessage());
    }
  }

  private TaskUpdateEvent event(String eventType, TaskResponse task) {
    return TaskUpdateEvent.newBuilder()
        .setEventType(eventType)
        .setTask(task)
        .setTimestamp(eventType.equals(TaskRules.DELETED) ? format(clock.millis()) : task.getUpdatedAt())
        .build();
  }

  private static Optional<TaskResponse> find(Connection connection, int id, boolean forUpdate) throws SQLException {
    try (PreparedStatement query = connection.prepareStatement(
        "SELECT " + COLUMNS + " FROM tasks WHERE id = ?" + (forUpdate ? " FOR UPDATE" : ""))) {
      query.setInt(1, id);
      try (ResultSet rows = query.executeQuery()) {
        return rows.next() ? Optional.of(task(rows)) : Optional.empty();
      }
    }
  }

  private static TaskResponse task(ResultSet row) throws SQLException {
    return TaskResponse.newBuilder()
        .setId(row.getInt("id"))
        .setTitle(row.getString("title"))
        .setDescription(row.getString("description"))
        .setPriority(row.getString("priority"))
        .setStatus(row.getString("status"))
        .setUserId(row.getInt("user_id"))
        .setProjectId(row.getInt("project_id")) // NULL (no project) reads as 0
        .setCreatedAt(format(row.getLong("created_at")))
        .setUpdatedAt(format(row.getLong("updated_at")))
        .build();
  }

  static String format(long epochMillis) {
    return ISO_UTC_MILLIS.format(Instant.ofEpochMilli(epochMillis));
  }

  /** Lets the feed start before the server has set the real listener. */
  private static final class ForwardingListener implements ChangeListener {
    private volatile ChangeListener target;

    @Override
    public void changed(TaskUpdateEvent event) {
      ChangeListener current = target;
      if (current != null) {
        current.changed(event);
      }
    }

    @Override
    public void interrupted(String reason) {
      ChangeListener current = target;
      if (current != null) {
        current.interrupted(reason);
      }
    }

    @Override
    public void resumed() {
      ChangeListener current = target;
      if (current != null) {
        current.resumed();
      }
    }
  }
}
