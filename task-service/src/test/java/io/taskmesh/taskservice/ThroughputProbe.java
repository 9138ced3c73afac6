package io.taskmesh.taskservice;

import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A by-hand throughput probe of CreateTask and GetTask on the default H2 file store, through TaskClient
 * over loopback (not a test: it asserts nothing and its figures depend on the machine). Run with
 * {@code ./mvnw -q -pl task-service test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.taskmesh.taskservice.ThroughputProbe}.
 */
public final class ThroughputProbe {
  private static final int THREADS = 16;
  private static final int CALLS_PER_THREAD = 1_000;

  public static void main(String[] args) throws Exception {
    Path data = Files.createTempDirectory("throughput");
    TaskServerOptions options = TaskServerOptions.defaults().withBindAddress("127.0.0.1").withPort(0)
        .withDatabaseUrl("jdbc:h2:file:" + data.resolve("tasks"));
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try (TaskServer server = TaskServer.start(options);
        TaskClient client = TaskClient.connect("127.0.0.1:" + server.port())) {
      List<Integer> ids = new ArrayList<>();
      for (int round = 0; round < 2; round++) { // the first round warms up the JIT
        ids.clear();
        long start = System.nanoTime();
        List<Future<List<Integer>>> created = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          created.add(pool.submit(() -> {
            List<Integer> mine = new ArrayList<>();
            for (int i = 0; i < CALLS_PER_THREAD; i++) {
              TaskResponse task = client.create("probe " + i, "", "", 1);
              mine.add(task.getId());
            }
            return mine;
          }));
        }
        for (Future<List<Integer>> f : created) {
          ids.addAll(f.get());
        }
        double createSeconds = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        List<Future<?>> reads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          int offset = t * CALLS_PER_THREAD;
          reads.add(pool.submit(() -> {
            for (int i = 0; i < CALLS_PER_THREAD; i++) {
              client.get(ids.get(offset + i));
            }
          }));
        }
        for (Future<?> f : reads) {
          f.get();
        }
        double getSeconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("round %d: CreateTask %.0f/s, GetTask %.0f/s (%d threads, %d calls in all)%n",
            round, ids.size() / createSeconds, ids.size() / getSeconds, THREADS, ids.size());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
