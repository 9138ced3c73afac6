package io.taskmesh.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.e2e.local.ChildProcess;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.e2e.local.Readiness;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Side-by-side run: direct, taskmesh, nginx and haproxy paths to one task service, same payload (GetTask),
 * same rates, same machine, each more than once. Prints a Markdown table and writes a latency plot.
 * Run it with {@code bench/run.sh}.
 */
public final class BenchMain {
  private static final List<Integer> DEFAULT_RATES = List.of(500, 2_000, 5_000);
  private static final int CLOSED_LOOP_STREAMS = 64;
  private static final int OVERLOAD_FACTOR = 3;

  public static void main(String[] args) throws Exception {
    // Ctrl-C or a kill of the bench also stops the proxies and the service it started
    Runtime.getRuntime().addShutdownHook(new Thread(() ->
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroy), "bench-cleanup"));
    int runs = Integer.parseInt(System.getProperty("bench.runs", "2"));
    List<Integer> rates = listProperty("bench.rates", DEFAULT_RATES.stream().map(String::valueOf).toList()).stream()
        .map(Integer::parseInt).toList();
    List<String> selected = listProperty("bench.paths", List.of("direct", "taskmesh", "taskmesh-mtls", "nginx", "haproxy",
        "haproxy-tls"));
    Map<String, SidecarVariant> variants = variants(); // read before anything starts, so a wrong one costs nothing
    selected = withVariants(selected, variants.keySet());
    Duration warmUp = Duration.ofSeconds(Long.parseLong(System.getProperty("bench.warmupSeconds", "20")));
    Duration measured = Duration.ofSeconds(Long.parseLong(System.getProperty("bench.seconds", "10")));
    Duration overload = Duration.ofSeconds(Long.parseLong(System.getProperty("bench.overloadSeconds", "0")));
    Path out = Files.createDirectories(Path.of(System.getProperty("bench.out", "bench/results")));
    Path workDir = Files.createTempDirectory("taskmesh-bench");
    String classpath = Files.readString(Path.of(System.getProperty("bench.classpath.file", "bench/target/classpath.txt"))).trim();

    int appPort = FreePorts.next();
    try (ChildProcess app = ChildProcess.startJava("task-service", List.of("-XX:+UseParallelGC", "-Xmx512m"), classpath,
        "io.taskmesh.taskservice.Main",
        List.of("--port", Integer.toString(appPort), "--bind", "127.0.0.1", "--database-url", "jdbc:h2:mem:bench"),
        Map.of(), workDir.resolve("task-service.log"))) {
      Readiness.await("the task service listens", Duration.ofSeconds(60), List.of(app), () -> Readiness.listening(appPort));
      int taskId;
      try (TaskClient client = TaskClient.connect("127.0.0.1:" + appPort)) {
        taskId = client.create("benchmark payload", "a small task read again and again", "medium", 1).getId();
      }
      System.out.println("configs and logs of the processes: " + workDir + " (each run overwrites the last one's logs)");
      Topologies topologies = new Topologies(workDir, appPort);
      List<ScenarioResult> results = new ArrayList<>();
      try (TlsTopologies tls = new TlsTopologies(topologies, workDir, appPort)) {
        Map<String, Supplier<Topology>> paths = new LinkedHashMap<>();
        paths.put("direct", topologies::direct);
        paths.put("taskmesh", topologies::taskmesh);
        variants.forEach((label, variant) -> paths.put("taskmesh-" + label, () -> topologies.taskmesh("taskmesh-" + label,
            variant)));
        paths.put("taskmesh-mtls", tls::taskmeshMtls);
        variants.forEach((label, variant) -> paths.put("taskmesh-mtls-" + label,
            () -> tls.taskmeshMtls("taskmesh-mtls-" + label, variant)));
        paths.put("taskmesh-mtls-jdk", tls::taskmeshMtlsJdk);
        paths.put("nginx", topologies::nginx);
        paths.put("haproxy", topologies::haproxy);
        paths.put("haproxy-tls", tls::haproxyTls);
        paths.keySet().retainAll(selected);

        for (int run = 1; run <= runs; run++) {
          for (Map.Entry<String, Supplier<Topology>> path : paths.entrySet()) {
            System.out.printf("run %d/%d: %s%n", run, runs, path.getKey());
            try (Topology topology = path.getValue().get()) {
              results.add(measure(topology, run, taskId, rates, warmUp, measured, overload));
            }
          }
        }
      }
      String header = "### Side-by-side, " + LocalDate.now() + ", " + Runtime.getRuntime().availableProcessors()
          + " cores, loopback; " + runs + " runs, " + measured.toSeconds() + " s per rate, GetTask\n\n"
          + "Machine: " + ProcessStats.cpuModel() + ", Linux " + System.getProperty("os.version") + ", Java "
          + System.getProperty("java.vm.version") + "; warm-up " + warmUp.toSeconds() + " s, overload "
          + overload.toSeconds() + " s; sidecar JVM flags: `" + String.join(" ", Topologies.sidecarFlags()) + "`"
          + variantsLine(variants);
      String table = MarkdownReport.render(results, rates, header) + TlsReport.render(results).orElse("");
      System.out.println(table);
      // another name (BENCH_REPORT) keeps a run of some paths from replacing the full run's latest.md
      String report = System.getProperty("bench.report", "latest.md");
      Path plot = out.resolve(report.equals("latest.md") ? "latency.png" : report.replaceFirst("\\.md$", "") + "-latency.png");
      Files.writeString(out.resolve(report), table);
      LatencyPlot.write(results, rates, plot);
      System.out.println("wrote " + out.resolve(report) + " and " + plot);
    }
  }

  private static ScenarioResult measure(Topology topology, int run, int taskId, List<Integer> rates,
      Duration warmUp, Duration measured, Duration overload)
      throws InterruptedException {
    Thread.sleep(1_000); // let start-up work settle before reading the idle footprint
    long idleRss = topology.proxyPids().stream().mapToLong(ProcessStats::rssBytes).max().orElse(0);
    long startToReady = topology.startToReadyMillis().stream().mapToLong(Long::longValue).max().orElse(0);
    double loadAverage = ProcessStats.loadAverage();
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(topology.target()).usePlaintext();
    if (topology.authority() != null) {
      builder.overrideAuthority(topology.authority());
    }
    ManagedChannel channel = builder.build();
    TaskServiceGrpc.TaskServiceFutureStub stub = TaskServiceGrpc.newFutureStub(channel);
    GetTaskRequest request = GetTaskRequest.newBuilder().setId(taskId).build();
    LoadGenerator load = new LoadGenerator(() -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).getTask(request));
    load.closedLoop(16, Duration.ZERO, warmUp);

    double cpuBefore = cpu(topology);
    double jitBefore = jit(topology);
    Map<Integer, LoadResult> openLoop = new LinkedHashMap<>();
    long requests = 0;
    for (int rate : rates) {
      LoadResult result = load.openLoop(rate, Duration.ofSeconds(1), measured);
      openLoop.put(rate, result);
      requests += result.succeeded();
    }
    LoadResult closedLoop = load.closedLoop(CLOSED_LOOP_STREAMS, Duration.ofSeconds(1), measured);
    requests += closedLoop.succeeded();
    double cpuSeconds = cpu(topology) - cpuBefore;
    double jitSeconds = jit(topology) - jitBefore;
    // past saturation only where there are proxies to shed: the direct path is the app's own behaviour
    OverloadResult overloaded = overload.isZero() || topology.proxyPids().isEmpty() ? null
        : overload(topology, load, closedLoop, overload);
    // the peak a container's limit must hold (VmHWM), not a sample that may miss it
    long maxRss = topology.proxyPids().stream().mapToLong(ProcessStats::peakRssBytes).max().orElse(0);
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    int proxies = Math.max(1, topology.proxyPids().size());
    double cpuPer1000 = topology.proxyPids().isEmpty() ? 0 : cpuSeconds * 1000 / proxies / (requests / 1000.0);
    double jitPer1000 = topology.proxyPids().isEmpty() ? 0 : jitSeconds * 1000 / proxies / (requests / 1000.0);
    return new ScenarioResult(topology.name(), run, openLoop, closedLoop, cpuPer1000, jitPer1000, maxRss,
        startToReady, idleRss, loadAverage, overloaded);
  }

  /**
   * Open loop at {@value #OVERLOAD_FACTOR}x the throughput the closed loop reached, for {@code seconds}: past
   * saturation, where a proxy must shed what it cannot serve and keep its memory bounded.
   */
  private static OverloadResult overload(Topology topology, LoadGenerator load, LoadResult closedLoop,
      Duration seconds) {
    int rate = (int) Math.max(1, OVERLOAD_FACTOR * closedLoop.throughput());
    LoadResult result = load.openLoop(rate, Duration.ofSeconds(1), seconds);
    boolean alive = topology.proxyPids().stream().allMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive)
        .orElse(false));
    long peak = alive ? topology.proxyPids().stream().mapToLong(ProcessStats::peakRssBytes).max().orElse(0) : 0;
    return new OverloadResult(rate, result, peak, alive);
  }

  /**
   * The sidecar variants of the run: {@code bench.variants} ({@code label=words;...}, see {@link SidecarVariant#of}),
   * and {@code baseline}, the deployed flags from another proxy jar, when {@code bench.baselineJar} names one.
   */
  static Map<String, SidecarVariant> variants() {
    Map<String, SidecarVariant> variants = new LinkedHashMap<>();
    String baselineJar = System.getProperty("bench.baselineJar", "");
    if (!baselineJar.isBlank()) {
      variants.put("baseline", new SidecarVariant(baselineJar, "", List.of(), Map.of()));
    }
    SidecarVariant.parse("bench.variants", System.getProperty("bench.variants", "")).forEach((label, variant) -> {
      if (variants.put(label, variant) != null) {
        throw new IllegalArgumentException("bench.variants names 'baseline', the path of bench.baselineJar");
      }
    });
    return variants;
  }

  /**
   * The paths asked for, with each variant's: {@code taskmesh-<label>} beside {@code taskmesh}, and
   * {@code taskmesh-mtls-<label>} beside {@code taskmesh-mtls}, when those are asked for.
   */
  static List<String> withVariants(List<String> selected, java.util.Collection<String> labels) {
    List<String> paths = new ArrayList<>(selected);
    for (String label : labels) {
      for (String deployed : List.of("taskmesh", "taskmesh-mtls")) {
        if (selected.contains(deployed)) {
          paths.add(deployed + "-" + label);
        }
      }
    }
    return paths;
  }

  private static String variantsLine(Map<String, SidecarVariant> variants) {
    StringBuilder line = new StringBuilder();
    variants.forEach((label, variant) -> line.append(line.length() == 0 ? "; variants (after the deployed flags): " : ", ")
        .append('`').append(label).append("` = `").append(variant.describe()).append('`'));
    return line.toString();
  }

  /** A comma-separated system property, e.g. {@code -Dbench.paths=direct,taskmesh}. */
  private static List<String> listProperty(String name, List<String> defaults) {
    String value = System.getProperty(name, "");
    return value.isBlank() ? defaults : List.of(value.split("\\s*,\\s*"));
  }

  private static double jit(Topology topology) {
    return topology.proxyPids().stream().mapToDouble(ProcessStats::jitCpuSeconds).sum();
  }

  private static double cpu(Topology topology) {
    return topology.proxyPids().stream().mapToDouble(ProcessStats::cpuSeconds).sum();
  }
}
