package io.taskmesh.sidecar.bench;

import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * A small closed-loop load run: GetTask as a direct gRPC call to task-service vs as
 * {@code GET /api/tasks/{id}} through the gateway (HTTP/1.1 JSON → gateway → server sidecar → task-service),
 * same process, loopback. Not a test: run it as in sidecar/BENCH.md.
 *
 * <p>Arguments: [calls per caller, default 5000] [concurrent callers, default 4].
 */
public final class GatewayLatencyBench {
  private GatewayLatencyBench() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int callers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    Path directory = Files.createTempDirectory("gateway-bench");
    try (MeshFixture mesh = new MeshFixture()) {
      TaskServer backend = mesh.backend();
      Sidecar serverSide = mesh.serverSidecar(backend);
      Sidecar gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
          "{requestsPerMinute: 10000000}", serverSide.inboundPort());
      TaskClient direct = mesh.directClient(backend);
      TaskResponse task = direct.create("bench", "latency probe", "low", 16);
      List<HttpJsonClient> httpClients = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        httpClients.add(new HttpJsonClient(gateway.gatewayPort()));
      }
      Consumer<Integer> grpcCall = caller -> direct.get(task.getId());
      Consumer<Integer> httpCall = caller -> {
        if (httpClients.get(caller).send("GET", "/api/tasks/" + task.getId(), null).statusCode() != 200) {
          throw new IllegalStateException("gateway call failed");
        }
      };

      run(grpcCall, calls / 2, callers); // warm-up both paths (JIT, connections, pools)
      run(httpCall, calls / 2, callers);
      Result directResult = run(grpcCall, calls, callers);
      Result gatewayResult = run(httpCall, calls, callers);
      System.out.printf("GetTask, %d callers x %d calls, closed loop, loopback, %d cores%n",
          callers, calls, Runtime.getRuntime().availableProcessors());
      System.out.println("| path | requests/s | p50 us | p90 us | p99 us | max us |");
      System.out.println("|---|---|---|---|---|---|");
      print("direct gRPC", directResult);
      print("gateway HTTP/JSON", gatewayResult);
      System.out.printf("added by the gateway: p50 %+d us, p99 %+d us%n",
          (gatewayResult.latency.getValueAtPercentile(50) - directResult.latency.getValueAtPercentile(50)) / 1000,
          (gatewayResult.latency.getValueAtPercentile(99) - directResult.latency.getValueAtPercentile(99)) / 1000);
    }
  }

  private record Result(Histogram latency, double requestsPerSecond) {}

  private static Result run(Consumer<Integer> call, int calls, int callers) {
    ExecutorService threads = Executors.newFixedThreadPool(callers);
    try {
      long start = System.nanoTime();
      List<CompletableFuture<Histogram>> runs = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int caller = c;
        runs.add(CompletableFuture.supplyAsync(() -> {
          Histogram histogram = new Histogram(60_000_000_000L, 3);
          for (int i = 0; i < calls; i++) {
            long begin = System.nanoTime();
            call.accept(caller);
            histogram.recordValue(System.nanoTime() - begin);
          }
          return histogram;
        }, threads));
      }
      Histogram total = new Histogram(60_000_000_000L, 3);
      runs.forEach(run -> total.add(run.join()));
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Result(total, total.getTotalCount() / seconds);
    } finally {
      threads.shutdown();
    }
  }

  private static void print(String path, Result result) {
    Histogram h = result.latency;
    System.out.printf("| %s | %.0f | %d | %d | %d | %d |%n", path, result.requestsPerSecond,
        h.getValueAtPercentile(50) / 1000, h.getValueAtPercentile(90) / 1000, h.getValueAtPercentile(99) / 1000,
        h.getMaxValue() / 1000);
  }
}
