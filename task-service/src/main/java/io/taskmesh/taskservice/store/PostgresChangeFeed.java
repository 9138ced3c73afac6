package io.taskmesh.taskservice.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every replica's task changes, from PostgreSQL LISTEN/NOTIFY. A writer records the change in the
 * {@code task_changes} table and NOTIFYs its sequence number, both inside its transaction; PostgreSQL
 * delivers notifications only after commit and in commit order, to every listening replica, the writer
 * included, and each reads the change by its number. (A NOTIFY payload is limited to 8000 bytes, less
 * than a task can take, so the change itself does not travel in it.) One thread per replica holds the
 * listening connection; when it drops, the listener is told changes may have been missed, and again
 * once it listens again.
 */
final class PostgresChangeFeed implements AutoCloseable {
  static final String CHANNEL = "taskmesh_task_changes";
  /** The listening connection's application_name, so an operator can tell it apart in pg_stat_activity. */
  static final String APPLICATION_NAME = "taskmesh-change-feed";
  /** How long a recorded change is kept: far longer than any replica takes to read it. */
  private static final Duration RETENTION = Duration.ofMinutes(10);
  private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);
  private static final Logger log = LoggerFactory.getLogger(PostgresChangeFeed.class);

  private final DatabaseUrl url;
  private final Clock clock;
  private final ChangeListener listener;
  private final CountDownLatch listening = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean closed;

  private PostgresChangeFeed(DatabaseUrl url, Clock clock, ChangeListener listener) {
    this.url = url;
    this.clock = clock;
    this.listener = listener;
    this.thread = new Thread(this::run, "task-change-feed");
    this.thread.setDaemon(true);
  }

  /** Starts listening and returns once LISTEN is in force, so no change committed afterwards is missed. */
  static PostgresChangeFeed start(DatabaseUrl url, Clock clock, ChangeListener listener) {
    PostgresChangeFeed feed = new PostgresChangeFeed(url, clock, listener);
    feed.thread.start();
    try {
      if (!feed.listening.await(30, TimeUnit.SECONDS)) {
        feed.close();
        throw StoreException.nothingWritten("could not LISTEN on " + url.redacted() + " within 30 s", null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw StoreException.nothingWritten("interrupted while starting the change feed", e);
    }
    return feed;
  }

  /** Records {@code event} and announces it; both take effect when the caller's transaction commits. */
  void recordInTransaction(Connection connection, TaskUpdateEvent event) throws SQLException {
    long sequence;
    try (PreparedStatement insert = connection.prepareStatement(
        "INSERT INTO task_changes (event, recorded_at) VALUES (?, ?)", Statement.RETURN_GENERATED_KEYS)) {
      insert.setString(1, JsonFormat.printer().omittingInsignificantWhitespace().print(event));
      insert.setLong(2, clock.millis());
      insert.executeUpdate();
      try (ResultSet keys = insert.getGeneratedKeys()) {
        keys.next();
        sequence = keys.getLong("seq");
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a task event always prints as JSON", e);
    }
    try (PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
      notify.setString(1, CHANNEL);
      notify.setString(2, Long.toString(sequence));
      notify.execute();
    }
  }

  private void run() {
    long backoffMillis = 100;
    boolean lost = false;
    while (!closed) {
      try (Connection connection = connect()) {
        try (Statement listen = connection.createStatement()) {
          listen.execute("LISTEN " + CHANNEL);
        }
        if (lost) {
          log.info("event=change_feed_resumed");
          listener.resumed();
          lost = false;
        }
        listening.countDown();
        backoffMillis = 100;
        listen(connection);
      } catch (SQLException e) {
        if (!closed) {
          if (!lost) {
            lost = true;
            listener.interrupted("task change feed lost its database connection");
          }
          log.warn("event=change_feed_lost error=\"{}\" retry_in_ms={}", e.getMessage(), backoffMillis);
          pause(backoffMillis);
          backoffMillis = Math.min(backoffMillis * 2, 5_000);
        }
      }
    }
  }

  private void listen(Connection connection) throws SQLException {
    PGConnection notifications = connection.unwrap(PGConnection.class);
    long nextPrune = 0;
    try (PreparedStatement read = connection.prepareStatement("SELECT event FROM task_changes WHERE seq = ?");
        PreparedStatement prune = connection.prepareStatement("DELETE FROM task_changes WHERE recorded_at < ?")) {
      while (!closed) {
        PGNotification[] received = notifications.getNotifications(500);
        if (received != null) {
          for (PGNotification notification : received) {
            deliver(read, notification.getParameter());
          }
        }
        long now = clock.millis();
        if (now >= nextPrune) {
          prune.setLong(1, now - RETENTION.toMillis());
          prune.executeUpdate();
          nextPrune = now + PRUNE_EVERY.toMillis();
        }
      }
    }
  }

  private void deliver(PreparedStatement read, String sequence) throws SQLException {
    read.setLong(1, Long.parseLong(sequence));
    try (ResultSet row = read.executeQuery()) {
      if (!row.next()) {
        log.error("event=change_feed_gap seq={}", sequence);
        listener.interrupted("task change " + sequence + " is no longer recorded");
        listener.resumed();
        return;
      }
      TaskUpdateEvent.Builder event = TaskUpdateEvent.newBuilder();
      JsonFormat.parser().merge(row.getString("event"), event);
      listener.changed(event.build());
    } catch (InvalidProtocolBufferException e) {
      log.error("event=change_feed_bad_record seq={} error=\"{}\"", sequence, e.getMessage());
      listener.interrupted("task change " + sequence + " could not be read");
      listener.resumed();
    }
  }

  private Connection connect() throws SQLException {
    Properties properties = new Properties();
    url.user().ifPresent(user -> properties.setProperty("user", user));
    url.password().ifPresent(password -> properties.setProperty("password", password));
    properties.setProperty("ApplicationName", APPLICATION_NAME);
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
