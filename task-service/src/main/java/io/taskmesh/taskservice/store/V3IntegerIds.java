package io.taskmesh.taskservice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema 3: the task API's integer ids. Tasks get ids from an identity column (issued by the database,
 * increasing, never reused) and integer user ids, plus an optional project id; changes for the
 * PostgreSQL change feed are recorded in {@code task_changes}.
 *
 * <p>Tasks written by schema 2 (UUID ids, text user ids) are carried over in creation order, each with a
 * new id; the UUID it had is kept in {@code legacy_id}. That is only possible when every user id is a
 * positive integer: otherwise the migration refuses before changing anything, and says what to do.
 */
final class V3IntegerIds implements JavaMigration {
  private static final Logger log = LoggerFactory.getLogger(V3IntegerIds.class);
  private static final Pattern POSITIVE_INT32 = Pattern.compile("[1-9][0-9]{0,9}");
  private static final int BATCH = 500;

  @Override
  public MigrationVersion getVersion() {
    return MigrationVersion.fromVersion("3");
  }

  @Override
  public String getDescription() {
    return "integer ids and the change log";
  }

  @Override
  public Integer getChecksum() {
    return 3;
  }

  @Override
  public boolean canExecuteInTransaction() {
    return true;
  }

  @Override
  public void migrate(Context context) throws SQLException {
    Connection connection = context.getConnection();
    refuseTextUserIds(connection);
    try (Statement ddl = connection.createStatement()) {
      ddl.execute("CREATE TABLE tasks_v3 ("
          + " id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
          + " title VARCHAR(200) NOT NULL,"
          + " description VARCHAR(2000) NOT NULL,"
          + " priority VARCHAR(16) NOT NULL,"
          + " status VARCHAR(16) NOT NULL,"
          + " user_id INTEGER NOT NULL,"
          + " project_id INTEGER,"
          + " created_at BIGINT NOT NULL,"
          + " updated_at BIGINT NOT NULL,"
          + " legacy_id VARCHAR(36) UNIQUE)");
    }
    int carried = carryOver(connection);
    try (Statement ddl = connection.createStatement()) {
      ddl.execute("DROP TABLE tasks");
      ddl.execute("ALTER TABLE tasks_v3 RENAME TO tasks");
      ddl.execute("CREATE INDEX tasks_by_user ON tasks (user_id, id)");
      ddl.execute("CREATE TABLE task_changes ("
          + " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
          + " event VARCHAR(100000) NOT NULL,"
          + " recorded_at BIGINT NOT NULL)");
      ddl.execute("CREATE INDEX task_changes_by_time ON task_changes (recorded_at)");
    }
    if (carried > 0) {
      log.info("event=store_migrated tasks={} note=\"new integer ids in creation order; the previous ids are in"
          + " tasks.legacy_id\"", carried);
    }
  }

  private static void refuseTextUserIds(Connection connection) throws SQLException {
    List<String> offending = new ArrayList<>();
    int tasks = 0;
    try (Statement query = connection.createStatement();
        ResultSet rows = query.executeQuery("SELECT user_id, COUNT(*) AS n FROM tasks GROUP BY user_id ORDER BY user_id")) {
      while (rows.next()) {
        String userId = rows.getString("user_id");
        if (!isPositiveInt32(userId)) {
          offending.add(userId);
          tasks += rows.getInt("n");
        }
      }
    }
    if (!offending.isEmpty()) {
      throw new SchemaRefusedException("the task store holds " + tasks + " task(s) of the previous schema whose user_id is not a"
          + " positive integer (" + sample(offending) + "); the task API now identifies users by a positive int32"
          + " user_id. Nothing has been changed. Give each such user a number, e.g. UPDATE tasks SET user_id = '42'"
          + " WHERE user_id = '" + offending.get(0).replace("'", "''") + "', then start the task service again; or"
          + " point it at an empty database.");
    }
  }

  private static boolean isPositiveInt32(String value) {
    return POSITIVE_INT32.matcher(value).matches() && Long.parseLong(value) <= Integer.MAX_VALUE;
  }

  private static String sample(List<String> userIds) {
    List<String> quoted = userIds.stream().limit(5).map(id -> "'" + id + "'").toList();
    return String.join(", ", quoted) + (userIds.size() > 5 ? " and " + (userIds.size() - 5) + " more" : "");
  }

  /** Inserts the old rows one after the other in creation order, so their new ids follow that order. */
  private static int carryOver(Connection connection) throws SQLException {
    int carried = 0;
    try (Statement query = connection.createStatement();
        ResultSet rows = query.executeQuery(
            "SELECT id, title, description, priority, status, user_id, created_at, updated_at FROM tasks ORDER BY seq");
        PreparedStatement insert = connection.prepareStatement("INSERT INTO tasks_v3"
            + " (title, description, priority, status, user_id, created_at, updated_at, legacy_id)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      while (rows.next()) {
        insert.setString(1, rows.getString("title"));
        insert.setString(2, rows.getString("description"));
        insert.setString(3, rows.getString("priority"));
        insert.setString(4, rows.getString("status"));
        insert.setInt(5, Integer.parseInt(rows.getString("user_id")));
        insert.setLong(6, rows.getLong("created_at"));
        insert.setLong(7, rows.getLong("updated_at"));
        insert.setString(8, rows.getString("id"));
        insert.addBatch();
        if (++carried % BATCH == 0) {
          insert.executeBatch();
        }
      }
      insert.executeBatch();
    }
    return carried;
  }
}
