package io.taskmesh.taskservice;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.store.TaskStore;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Keeps the gRPC health service in step with the store: SERVING while it answers, NOT_SERVING when not. */
final class StoreHealthReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StoreHealthReporter.class);

  private final TaskStore store;
  private final HealthStatusManager health;
  private final ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "store-health");
    thread.setDaemon(true);
    return thread;
  });
  private ServingStatus last;

  StoreHealthReporter(TaskStore store, HealthStatusManager health) {
    this.store = store;
    this.health = health;
  }

  void start() {
    check();
    schedule.scheduleWithFixedDelay(this::check, 2, 2, TimeUnit.SECONDS);
  }

  private void check() {
    ServingStatus status;
    try {
      store.checkHealth();
      status = ServingStatus.SERVING;
    } catch (RuntimeException e) {
      status = ServingStatus.NOT_SERVING;
      if (last != status) {
        log.warn("event=store_unhealthy error=\"{}\"", e.getMessage());
      }
    }
    if (status != last) {
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
      health.setStatus(TaskServiceGrpc.SERVICE_NAME, status);
      last = status;
    }
  }

  @Override
  public void close() {
    schedule.shutdownNow();
  }
}
