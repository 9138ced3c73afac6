package io.taskmesh.sidecar.bench;

import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.HdrHistogram.Histogram;

/**
 * A small closed-loop load run: GetTask latency direct to task-service vs through the sidecar pair
 * (client → outbound sidecar → inbound sidecar → task-service), same process, loopback. Not a test:
 * run it as in sidecar/BENCH.md. The proper side-by-side harness lives in the bench module.
 *
 * <p>Arguments: [calls per caller, default 5000] [concurrent callers, default 4].
 */
public final class SidecarLatencyBench {
  private SidecarLatencyBench() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int callers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    try (MeshFixture mesh = new MeshFixture()) {
      TaskServer backend = mesh.backend();
      Sidecar serverSide = mesh.serverSidecar(backend);
      Sidecar clientSide = mesh.clientSidecar("P2C_EWMA", serverSide.inboundPort());
      TaskClient direct = mesh.directClient(backend);
      TaskClient proxied = mesh.clientThrough(clientSide);
      TaskResponse task = direct.create("bench", "latency probe", "low", 16);

      run(direct, task.getId(), calls / 2, callers); // warm-up both paths (JIT, connections, pools)
      run(proxied, task.getId(), calls / 2, callers);

      Histogram directLatency = run(direct, task.getId(), calls, callers);
      Histogram proxiedLatency = run(proxied, task.getId(), calls, callers);
      System.out.printf("GetTask, %d callers x %d calls, closed loop, loopback, %d cores%n",
          callers, calls, Runtime.getRuntime().availableProcessors());
      System.out.println("| path | p50 us | p90 us | p99 us | max us |");
      System.out.println("|---|---|---|---|---|");
      print("direct", directLatency);
      print("sidecar pair", proxiedLatency);
      System.out.printf("added by the pair: p50 %+d us, p99 %+d us%n",
          (proxiedLatency.getValueAtPercentile(50) - directLatency.getValueAtPercentile(50)) / 1000,
          (proxiedLatency.getValueAtPercentile(99) - directLatency.getValueAtPercentile(99)) / 1000);
    }
  }

  private static Histogram run(TaskClient client, int id, int calls, int callers) {
    List<CompletableFuture<Histogram>> runs = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      runs.add(CompletableFuture.supplyAsync(() -> {
        Histogram histogram = new Histogram(60_000_000_000L, 3);
        for (int i = 0; i < calls; i++) {
          long start = System.nanoTime();
          client.get(id);
          histogram.recordValue(System.nanoTime() - start);
        }
        return histogram;
      }));
    }
    Histogram total = new Histogram(60_000_000_000L, 3);
    runs.forEach(run -> total.add(run.join()));
    return total;
  }

  private static void print(String path, Histogram histogram) {
    System.out.printf("| %s | %d | %d | %d | %d |%n", path, histogram.getValueAtPercentile(50) / 1000,
        histogram.getValueAtPercentile(90) / 1000, histogram.getValueAtPercentile(99) / 1000,
        histogram.getMaxValue() / 1000);
  }
}
