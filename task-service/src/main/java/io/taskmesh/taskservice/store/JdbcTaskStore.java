package io.taskmesh.taskservice.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.taskmesh.taskservice.TaskRules;
import io.taskmesh.taskservice.api.Task;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.TaskUpdateEvent.EventType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks in a JDBC database: H2 (embedded, one replica) or PostgreSQL (shared by several replicas). The
 * schema is migrated by Flyway at open. Changes are announced in commit order: on H2 by committing and
 * announcing under one lock, on PostgreSQL by a NOTIFY inside the transaction, which every replica's
 * {@link PostgresChangeFeed} receives in commit order.
 */
public final class JdbcTaskStore implements TaskStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcTaskStore.class);
  private static final DateTimeFormatter ISO_UTC_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final String COLUMNS = "id, title, description, status, priority, user_id, created_at, updated_at";

  private final HikariDataSource dataSource;
  private final Clock clock;
  private final PostgresChangeFeed feed;
  private final Object commitOrder = new Object();
  private volatile Consumer<TaskUpdateEvent> listener = event -> { };

  private JdbcTaskStore(HikariDataSource dataSource, Clock clock, DatabaseUrl url) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.feed = url.isPostgres() ? PostgresChangeFeed.start(url, event -> listener.accept(event)) : null;
  }

  /** Connects, migrates the schema, and (on PostgreSQL) starts listening for every replica's changes. */
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
      Flyway.configure().dataSource(dataSource).load().migrate();
      log.info("event=store_opened url={} engine={}", url.redacted(), url.isPostgres() ? "postgresql" : "h2");
      return new JdbcTaskStore(dataSource, clock, url);
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
  }

  @Override
  public Task create(String title, String description, String priority, String userId) {
    long now = clock.millis();
    Task task = Task.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setTitle(title)
        .setDescription(description)
        .setStatus(TaskRules.INITIAL_STATUS)
        .setPriority(priority)
        .setUserId(userId)
        .setCreatedAt(format(now))
        .setUpdatedAt(format(now))
        .build();
    return write(EventType.CREATED, connection -> {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO tasks (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        insert.setString(1, task.getId());
        insert.setString(2, title);
        insert.setString(3, description);
        insert.setString(4, task.getStatus());
        insert.setString(5, priority);
        insert.setString(6, userId);
        insert.setLong(7, now);
        insert.setLong(8, now);
        insert.executeUpdate();
      }
      return Optional.of(task);
    }).orElseThrow();
  }

  @Override
  public Optional<Task> get(String id) {
    return read(connection -> find(connection, id, false));
  }

  @Override
  public Optional<Task> update(String id, TaskPatch patch) {
    if (patch.isEmpty()) {
      return get(id);
    }
    return write(EventType.UPDATED, connection -> {
      Optional<Task> current = find(connection, id, true);
      if (current.isEmpty()) {
        return current;
      }
      Task before = current.get();
      long now = clock.millis();
      Task after = before.toBuilder()
          .setTitle(patch.title() != null ? patch.title() : before.getTitle())
          .setDescription(patch.description() != null ? patch.description() : before.getDescription())
          .setStatus(patch.status() != null ? patch.status() : before.getStatus())
          .setPriority(patch.priority() != null ? patch.priority() : before.getPriority())
          .setUpdatedAt(format(now))
          .build();
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE tasks SET title = ?, description = ?, status = ?, priority = ?, updated_at = ? WHERE id = ?")) {
        update.setString(1, after.getTitle());
        update.setString(2, after.getDescription());
        update.setString(3, after.getStatus());
        update.setString(4, after.getPriority());
        update.setLong(5, now);
        update.setString(6, id);
        update.executeUpdate();
      }
      return Optional.of(after);
    });
  }

  @Override
  public Optional<Task> delete(String id) {
    return write(EventType.DELETED, connection -> {
      Optional<Task> current = find(connection, id, true);
      if (current.isPresent()) {
        try (PreparedStatement delete = connection.prepareStatement("DELETE FROM tasks WHERE id = ?")) {
          delete.setString(1, id);
          delete.executeUpdate();
        }
      }
      return current;
    });
  }

  @Override
  public List<Task> list(String userId, String status, int limit, int offset) {
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM tasks WHERE 1 = 1");
    List<String> parameters = new ArrayList<>();
    if (userId != null) {
      sql.append(" AND user_id = ?");
      parameters.add(userId);
    }
    if (status != null) {
      sql.append(" AND status = ?");
      parameters.add(status);
    }
    sql.append(" ORDER BY seq LIMIT ? OFFSET ?");
    return read(connection -> {
      try (PreparedStatement query = connection.prepareStatement(sql.toString())) {
        int index = 1;
        for (String parameter : parameters) {
          query.setString(index++, parameter);
        }
        query.setInt(index++, limit);
        query.setInt(index, offset);
        List<Task> tasks = new ArrayList<>();
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
  public void onChange(Consumer<TaskUpdateEvent> listener) {
    this.listener = listener;
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
      throw new StoreException("task store query failed: " + e.getMessage(), e);
    }
  }

  /** Runs {@code work} in one transaction and announces its result as a change of {@code type}. */
  private Optional<Task> write(EventType type, Work<Optional<Task>> work) {
    if (feed != null) {
      return inTransaction(connection -> {
        Optional<Task> changed = work.run(connection);
        if (changed.isPresent()) {
          feed.notifyInTransaction(connection, event(type, changed.get()));
        }
        return changed;
      });
    }
    synchronized (commitOrder) {
      Optional<Task> changed = inTransaction(work);
      changed.ifPresent(task -> listener.accept(event(type, task)));
      return changed;
    }
  }

  private <T> T inTransaction(Work<T> work) {
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      try {
        T result = work.run(connection);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException("task store write failed: " + e.getMessage(), e);
    }
  }

  private TaskUpdateEvent event(EventType type, Task task) {
    return TaskUpdateEvent.newBuilder()
        .setEventType(type)
        .setTask(task)
        .setTimestamp(type == EventType.DELETED ? format(clock.millis()) : task.getUpdatedAt())
        .build();
  }

  private static Optional<Task> find(Connection connection, String id, boolean forUpdate) throws SQLException {
    try (PreparedStatement query = connection.prepareStatement(
        "SELECT " + COLUMNS + " FROM tasks WHERE id = ?" + (forUpdate ? " FOR UPDATE" : ""))) {
      query.setString(1, id);
      try (ResultSet rows = query.executeQuery()) {
        return rows.next() ? Optional.of(task(rows)) : Optional.empty();
      }
    }
  }

  private static Task task(ResultSet row) throws SQLException {
    return Task.newBuilder()
        .setId(row.getString("id"))
        .setTitle(row.getString("title"))
        .setDescription(row.getString("description"))
        .setStatus(row.getString("status"))
        .setPriority(row.getString("priority"))
        .setUserId(row.getString("user_id"))
        .setCreatedAt(format(row.getLong("created_at")))
        .setUpdatedAt(format(row.getLong("updated_at")))
        .build();
  }

  static String format(long epochMillis) {
    return ISO_UTC_MILLIS.format(Instant.ofEpochMilli(epochMillis));
  }
}
