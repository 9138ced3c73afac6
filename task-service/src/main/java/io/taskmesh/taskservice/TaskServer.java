package io.taskmesh.taskservice;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.taskmesh.taskservice.events.UpdateBroker;
import io.taskmesh.taskservice.store.DatabaseUrl;
import io.taskmesh.taskservice.store.JdbcTaskStore;
import io.taskmesh.taskservice.store.TaskStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running task service: the gRPC server (tasks, health, reflection) over its store. */
public final class TaskServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TaskServer.class);

  private final TaskServerOptions options;
  private final TaskStore store;
  private final UpdateBroker broker;
  private final HealthStatusManager health;
  private final StoreHealthReporter healthReporter;
  private final Server server;
  private boolean closed;

  private TaskServer(TaskServerOptions options, TaskStore store, UpdateBroker broker, HealthStatusManager health,
      StoreHealthReporter healthReporter, Server server) {
    this.options = options;
    this.store = store;
    this.broker = broker;
    this.health = health;
    this.healthReporter = healthReporter;
    this.server = server;
  }

  /** Opens the store (migrating its schema), then starts serving; fails fast when either cannot. */
  public static TaskServer start(TaskServerOptions options) {
    TaskStore store = JdbcTaskStore.open(
        new DatabaseUrl(options.databaseUrl(), options.databaseUser(), options.databasePassword()), Clock.systemUTC());
    UpdateBroker broker = new UpdateBroker(options.subscriberBuffer());
    store.onChange(broker);
    HealthStatusManager health = new HealthStatusManager();
    StoreHealthReporter healthReporter = new StoreHealthReporter(store, health);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress(options.bindAddress(), options.port()))
        .addService(new TaskGrpcService(store, broker))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      store.close();
      throw new UncheckedIOException("cannot listen on " + options.bindAddress() + ":" + options.port(), e);
    }
    healthReporter.start();
    log.info("event=server_started address={} port={}", options.bindAddress(), server.getPort());
    return new TaskServer(options, store, broker, health, healthReporter, server);
  }

  public int port() {
    return server.getPort();
  }

  /** Live StreamTaskUpdates calls on this replica. */
  public int subscriberCount() {
    return broker.subscriberCount();
  }

  /**
   * Graceful stop: report NOT_SERVING, stop accepting calls, end update streams (so clients resubscribe
   * elsewhere), let in-flight calls finish within the grace period, then close the store.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    log.info("event=server_stopping grace_ms={}", options.shutdownGrace().toMillis());
    health.enterTerminalState();
    server.shutdown();
    broker.endAll(Status.UNAVAILABLE.withDescription("task service shutting down; resubscribe"));
    try {
      if (!server.awaitTermination(options.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("event=server_forced_stop reason=grace_period_over");
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    } finally {
      healthReporter.close();
      store.close();
      log.info("event=server_stopped");
    }
  }
}
