package io.taskmesh.taskservice;

import java.time.Duration;

/**
 * How a task server runs.
 *
 * @param databaseUrl {@code jdbc:h2:file:...}, {@code jdbc:h2:mem:...} or {@code jdbc:postgresql://...}
 * @param databaseUser {@code null} when the URL carries it
 * @param databasePassword {@code null} when the URL carries it
 * @param shutdownGrace how long in-flight calls may take to finish once shutdown starts
 * @param subscriberBuffer task updates one StreamTaskUpdates call may fall behind before it is ended
 */
public record TaskServerOptions(
    String bindAddress,
    int port,
    String databaseUrl,
    String databaseUser,
    String databasePassword,
    Duration shutdownGrace,
    int subscriberBuffer) {

  public static TaskServerOptions defaults() {
    return new TaskServerOptions("0.0.0.0", 50051, "jdbc:h2:file:./data/tasks", null, null, Duration.ofSeconds(10), 256);
  }

  public TaskServerOptions withBindAddress(String value) {
    return new TaskServerOptions(value, port, databaseUrl, databaseUser, databasePassword, shutdownGrace, subscriberBuffer);
  }

  public TaskServerOptions withPort(int value) {
    return new TaskServerOptions(bindAddress, value, databaseUrl, databaseUser, databasePassword, shutdownGrace, subscriberBuffer);
  }

  public TaskServerOptions withDatabaseUrl(String value) {
    return new TaskServerOptions(bindAddress, port, value, databaseUser, databasePassword, shutdownGrace, subscriberBuffer);
  }

  public TaskServerOptions withDatabaseCredentials(String user, String password) {
    return new TaskServerOptions(bindAddress, port, databaseUrl, user, password, shutdownGrace, subscriberBuffer);
  }

  public TaskServerOptions withShutdownGrace(Duration value) {
    return new TaskServerOptions(bindAddress, port, databaseUrl, databaseUser, databasePassword, value, subscriberBuffer);
  }

  public TaskServerOptions withSubscriberBuffer(int value) {
    return new TaskServerOptions(bindAddress, port, databaseUrl, databaseUser, databasePassword, shutdownGrace, value);
  }
}
