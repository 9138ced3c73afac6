package io.taskmesh.taskservice;

import io.taskmesh.taskservice.store.SchemaRefusedException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the task service until SIGTERM/SIGINT, then shuts down gracefully. */
@Command(name = "task-service", mixinStandardHelpOptions = true,
    description = "The taskmesh task service (gRPC). Every option can also be set by the environment variable shown.")
public final class Main implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @Option(names = "--port", defaultValue = "${env:TASK_SERVICE_PORT:-50051}",
      description = "gRPC port (TASK_SERVICE_PORT, default ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--bind", defaultValue = "${env:TASK_SERVICE_BIND:-0.0.0.0}",
      description = "address to listen on; 127.0.0.1 inside a meshed pod (TASK_SERVICE_BIND, default ${DEFAULT-VALUE})")
  String bindAddress;

  @Option(names = "--database-url", defaultValue = "${env:TASK_SERVICE_DATABASE_URL:-jdbc:h2:file:./data/tasks}",
      description = "jdbc:h2:file:..., jdbc:h2:mem:... or jdbc:postgresql://... (TASK_SERVICE_DATABASE_URL, default ${DEFAULT-VALUE})")
  String databaseUrl;

  @Option(names = "--database-user", defaultValue = "${env:TASK_SERVICE_DATABASE_USER}",
      description = "database user when not in the URL (TASK_SERVICE_DATABASE_USER)")
  String databaseUser;

  @Option(names = "--database-password", defaultValue = "${env:TASK_SERVICE_DATABASE_PASSWORD}",
      description = "database password when not in the URL (TASK_SERVICE_DATABASE_PASSWORD)")
  String databasePassword;

  @Option(names = "--shutdown-grace-seconds", defaultValue = "${env:TASK_SERVICE_SHUTDOWN_GRACE_SECONDS:-10}",
      description = "time in-flight calls get to finish on shutdown (default ${DEFAULT-VALUE})")
  int shutdownGraceSeconds;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    TaskServerOptions options = TaskServerOptions.defaults()
        .withPort(port)
        .withBindAddress(bindAddress)
        .withDatabaseUrl(databaseUrl)
        .withDatabaseCredentials(databaseUser, databasePassword)
        .withShutdownGrace(Duration.ofSeconds(shutdownGraceSeconds));
    TaskServer server;
    try {
      server = TaskServer.start(options);
    } catch (SchemaRefusedException e) {
      log.error("event=start_refused reason=\"{}\"", e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "graceful-shutdown"));
    stopped.await();
    return 0;
  }
}
