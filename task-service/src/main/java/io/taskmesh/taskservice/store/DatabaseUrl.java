package io.taskmesh.taskservice.store;

import java.util.Optional;

/**
 * Which database to use: {@code jdbc:h2:file:...} (the default, one replica), {@code jdbc:h2:mem:...}
 * (in memory, for tests and benchmarks) or {@code jdbc:postgresql://...} (several replicas). User and
 * password may be in the URL or given apart.
 */
public final class DatabaseUrl {
  private final String jdbcUrl;
  private final String user;
  private final String password;

  public DatabaseUrl(String jdbcUrl, String user, String password) {
    if (jdbcUrl == null || !(jdbcUrl.startsWith("jdbc:h2:") || jdbcUrl.startsWith("jdbc:postgresql:"))) {
      throw new IllegalArgumentException(
          "database URL must start with jdbc:h2: or jdbc:postgresql:, got '" + jdbcUrl + "'");
    }
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
  }

  public static DatabaseUrl of(String jdbcUrl) {
    return new DatabaseUrl(jdbcUrl, null, null);
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public boolean isPostgres() {
    return jdbcUrl.startsWith("jdbc:postgresql:");
  }

  public Optional<String> user() {
    return Optional.ofNullable(user);
  }

  public Optional<String> password() {
    return Optional.ofNullable(password);
  }

  /** The URL without any password parameter, for logs. */
  public String redacted() {
    return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  @Override
  public String toString() {
    return redacted();
  }
}
