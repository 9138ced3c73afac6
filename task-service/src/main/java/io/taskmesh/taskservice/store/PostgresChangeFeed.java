package io.taskmesh.taskservice.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every replica's task changes, from PostgreSQL LISTEN/NOTIFY. A writer NOTIFYs inside its transaction;
 * PostgreSQL delivers notifications only after commit and in commit order, to every listening replica,
 * the writer included. One thread per replica holds the listening connection and reconnects if it drops.
 */
final class PostgresChangeFeed implements AutoCloseable {
  static final String CHANNEL = "taskmesh_task_changes";
  private static final Logger log = LoggerFactory.getLogger(PostgresChangeFeed.class);

  private final DatabaseUrl url;
  private final Consumer<TaskUpdateEvent> listener;
  private final CountDownLatch listening = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean closed;

  private PostgresChangeFeed(DatabaseUrl url, Consumer<TaskUpdateEvent> listener) {
    this.url = url;
    this.listener = listener;
    this.thread = new Thread(this::run, "task-change-feed");
    this.thread.setDaemon(true);
  }

  /** Starts listening and returns once LISTEN is in force, so no change committed afterwards is missed. */
  static PostgresChangeFeed start(DatabaseUrl url, Consumer<TaskUpdateEvent> listener) {
    PostgresChangeFeed feed = new PostgresChangeFeed(url, listener);
    feed.thread.start();
    try {
      if (!feed.listening.await(30, TimeUnit.SECONDS)) {
        feed.close();
        throw new StoreException("could not LISTEN on " + url.redacted() + " within 30 s", null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while starting the change feed", e);
    }
    return feed;
  }

  void notifyInTransaction(Connection connection, TaskUpdateEvent event) throws SQLException {
    try (PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
      notify.setString(1, CHANNEL);
      notify.setString(2, JsonFormat.printer().omittingInsignificantWhitespace().print(event));
      notify.execute();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a task event always prints as JSON", e);
    }
  }

  private void run() {
    long backoffMillis = 100;
    while (!closed) {
      try (Connection connection = connect()) {
        try (Statement listen = connection.createStatement()) {
          listen.execute("LISTEN " + CHANNEL);
        }
        listening.countDown();
        backoffMillis = 100;
        PGConnection notifications = connection.unwrap(PGConnection.class);
        while (!closed) {
          PGNotification[] received = notifications.getNotifications(500);
          if (received != null) {
            for (PGNotification notification : received) {
              deliver(notification.getParameter());
            }
          }
        }
      } catch (SQLException e) {
        if (!closed) {
          log.warn("event=change_feed_lost error=\"{}\" retry_in_ms={}", e.getMessage(), backoffMillis);
          pause(backoffMillis);
          backoffMillis = Math.min(backoffMillis * 2, 5_000);
        }
      }
    }
  }

  private void deliver(String payload) {
    try {
      TaskUpdateEvent.Builder event = TaskUpdateEvent.newBuilder();
      JsonFormat.parser().merge(payload, event);
      listener.accept(event.build());
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      log.error("event=change_feed_bad_payload error=\"{}\"", e.getMessage());
    }
  }

  private Connection connect() throws SQLException {
    Properties properties = new Properties();
    url.user().ifPresent(user -> properties.setProperty("user", user));
    url.password().ifPresent(password -> properties.setProperty("password", password));
    return DriverManager.getConnection(url.jdbcUrl(), properties);
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
