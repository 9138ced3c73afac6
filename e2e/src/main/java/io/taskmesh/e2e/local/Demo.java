package io.taskmesh.e2e.local;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.taskmesh.e2e.zipkin.Span;
import io.taskmesh.e2e.zipkin.TraceTree;
import io.taskmesh.e2e.zipkin.ZipkinQuery;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.api.UpdateTaskRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** The scripted story of taskmesh on one machine, told through real calls with visible output. */
public final class Demo {
  private static final int USER = 1;

  private final LocalMesh mesh;
  private final PrintStream out;
  private final List<Runnable> steps = new ArrayList<>();
  private final List<String> titles = new ArrayList<>();
  private final TaskClient client;

  public Demo(LocalMesh mesh, PrintStream out) {
    this.mesh = mesh;
    this.out = out;
    this.client = TaskClient.connect(mesh.outboundTarget(), "task-service", Duration.ofSeconds(5));
    step("Create and list tasks through the mesh", this::createAndList);
    step("Watch updates stream through the mesh", this::watchUpdates);
    step("The gateway: the same service as REST/JSON, a live watch as Server-Sent Events, a client's rate limit",
        () -> new GatewayTour(mesh.gatewayUri(), out).run());
    step("Requests from one client connection spread over every replica", this::spread);
    step("Kill a replica while traffic runs", this::killReplica);
    step("Take the whole service down: the circuit opens, then closes when it is back", this::outageAndRecovery);
    step("Exceed the replicas' rate limit", this::rateLimit);
    step("One request's trace, fetched back from Zipkin", this::trace);
    step("Metrics summary from the client sidecar", this::metrics);
  }

  private void step(String title, Runnable step) {
    titles.add(title);
    steps.add(step);
  }

  public void run() {
    long start = System.nanoTime();
    for (int i = 0; i < steps.size(); i++) {
      out.printf("%n[%d/%d] %s%n", i + 1, steps.size(), titles.get(i));
      long stepStart = System.nanoTime();
      try {
        steps.get(i).run();
      } catch (StatusRuntimeException e) {
        out.printf("  this step failed: %s: %s%n", e.getStatus().getCode(), e.getStatus().getDescription());
      }
      out.printf("      (%.1f s)%n", (System.nanoTime() - stepStart) / 1e9);
    }
    out.printf("%nDemo finished in %.1f s.%n", (System.nanoTime() - start) / 1e9);
    client.close();
  }

  private void createAndList() {
    for (String title : List.of("Write the proposal", "Review the budget", "Book the venue")) {
      TaskResponse task = client.create(title, "", "high", USER);
      out.printf("  created id=%-4d %-20s status=%s user_id=%d%n", task.getId(), task.getTitle(), task.getStatus(),
          task.getUserId());
    }
    List<TaskResponse> tasks = client.list(ListTasksRequest.newBuilder().setUserId(USER).build());
    out.printf("  ListTasks through 127.0.0.1:%s -> %d tasks%n", mesh.outboundTarget().split(":")[1], tasks.size());
  }

  private void watchUpdates() {
    List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
    TaskClient.Subscription subscription = client.subscribe(
        TaskSubscriptionRequest.newBuilder().setUserId(USER).build(), events::add, status -> { });
    pause(500);
    TaskResponse task = client.create("Watched task", "", "low", USER);
    client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("in_progress").build());
    client.update(UpdateTaskRequest.newBuilder().setId(task.getId()).setStatus("done").build());
    waitFor(() -> events.size() >= 3, Duration.ofSeconds(10));
    for (TaskUpdateEvent event : events) {
      out.printf("  %-8s id=%d %s status=%s at %s%n", event.getEventType(), event.getTask().getId(),
          event.getTask().getTitle(),
          event.getTask().getStatus(), event.getTimestamp());
    }
    subscription.cancel();
  }

  private void spread() {
    List<Double> before = inboundCounts();
    TaskResponse task = client.create("Read me often", "", "", USER);
    for (int i = 0; i < 300; i++) {
      client.get(task.getId());
    }
    List<Double> after = inboundCounts();
    for (int i = 0; i < after.size(); i++) {
      out.printf("  replica %d served %4.0f of 300 calls%n", i + 1, after.get(i) - before.get(i));
    }
  }

  private void killReplica() {
    TaskResponse task = client.create("Survive a crash", "", "", USER);
    AtomicInteger ok = new AtomicInteger();
    List<String> failures = new CopyOnWriteArrayList<>();
    long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
    long killAt = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    boolean killed = false;
    while (System.nanoTime() < end) {
      if (!killed && System.nanoTime() >= killAt) {
        out.println("  killing replica 2 (app and sidecar, SIGKILL)");
        mesh.killReplica(2);
        killed = true;
      }
      try {
        client.get(task.getId());
        ok.incrementAndGet();
      } catch (StatusRuntimeException e) {
        failures.add(e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      }
      pause(10);
    }
    out.printf("  %d calls succeeded, %d failed%n", ok.get(), failures.size());
    failures.stream().distinct().limit(3).forEach(f -> out.println("    " + f));
  }

  private void outageAndRecovery() {
    mesh.stopAllApps();
    out.println("  every task-service app stopped (sidecars still up)");
    String lastFailure = "";
    int failed = 0;
    for (int i = 0; i < 15; i++) {
      try {
        client.list(ListTasksRequest.newBuilder().setUserId(USER).build());
      } catch (StatusRuntimeException e) {
        failed++;
        String now = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
        if (!now.equals(lastFailure)) {
          out.printf("  call %2d: %s%n", i + 1, now);
          lastFailure = now;
        }
      }
    }
    out.printf("  %d of 15 calls failed; circuit state now %s%n", failed, circuitState());
    long restart = System.nanoTime();
    mesh.restartStoppedApps();
    waitFor(() -> {
      try {
        client.list(ListTasksRequest.newBuilder().setUserId(USER).build());
        return circuitState().equals("CLOSED");
      } catch (StatusRuntimeException e) {
        return false;
      }
    }, Duration.ofSeconds(30));
    out.printf("  apps restarted; after %.1f s the half-open trial calls succeeded and the circuit is %s%n",
        (System.nanoTime() - restart) / 1e9, circuitState());
  }

  private String circuitState() {
    double state = MeshMetrics.sum(mesh.clientAdmin(), "taskmesh_circuit_breaker_state", "service=\"task-service\"");
    return state == 1 ? "OPEN" : state == 2 ? "HALF_OPEN" : "CLOSED";
  }

  private void rateLimit() {
    TaskResponse task = client.create("Hot task", "", "", USER);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger limited = new AtomicInteger();
    List<String> hints = new CopyOnWriteArrayList<>();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(32);
    for (int i = 0; i < 2_000; i++) {
      pool.execute(() -> {
        try {
          client.get(task.getId());
          ok.incrementAndGet();
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            limited.incrementAndGet();
            if (hints.isEmpty()) {
              hints.add(e.getStatus().getDescription());
            }
          }
        }
      });
    }
    pool.shutdown();
    try {
      pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    out.printf("  2,000 GetTask calls from 32 threads: %d served, %d refused with RESOURCE_EXHAUSTED%n", ok.get(),
        limited.get());
    hints.forEach(hint -> out.println("    " + hint));
  }

  private void trace() {
    if (mesh.zipkin() == null) {
      out.println("  tracing is off (run without --no-tracing to see a trace)");
      return;
    }
    client.get(client.create("Trace me", "", "", USER).getId());
    ZipkinQuery zipkin = new ZipkinQuery(mesh.zipkin().baseUri());
    List<List<Span>> traces = new ArrayList<>();
    waitFor(() -> { // the GetTask's trace once both sidecars' and the app's (javaagent) spans have arrived
      traces.clear();
      zipkin.traces("task-cli", 10).stream()
          .filter(trace -> trace.stream().anyMatch(span -> span.name().endsWith("/gettask")))
          .filter(trace -> trace.stream().anyMatch(span -> !span.tags().containsKey("taskmesh.direction")))
          .filter(trace -> trace.stream().anyMatch(span -> "inbound".equals(span.tags().get("taskmesh.direction"))))
          .forEach(traces::add);
      return !traces.isEmpty();
    }, Duration.ofSeconds(20));
    if (traces.isEmpty()) {
      out.println("  no complete trace reached Zipkin within 20 s (are the sidecars and the app exporting spans?)");
      return;
    }
    TraceTree.render(zipkin.trace(traces.get(0).get(0).traceId())).lines().forEach(line -> out.println("  " + line));
  }

  private void metrics() {
    Map<String, Double> requests = MeshMetrics.samples(mesh.clientAdmin(), "taskmesh_requests_total");
    requests.forEach((labels, count) -> out.printf("  taskmesh_requests_total%s %.0f%n", labels, count));
    if (requests.isEmpty()) {
      out.println("  (no taskmesh_requests_total samples)");
    }
  }

  private List<Double> inboundCounts() {
    List<Double> counts = new ArrayList<>();
    for (LocalMesh.Replica replica : mesh.replicas()) {
      counts.add(replica.sidecar().isAlive()
          ? MeshMetrics.sum(java.net.URI.create("http://127.0.0.1:" + replica.ports().admin()),
              "taskmesh_requests_total", "direction=\"inbound\"")
          : 0.0);
    }
    return counts;
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, Duration bound) {
    long giveUp = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < giveUp) {
      pause(100);
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
