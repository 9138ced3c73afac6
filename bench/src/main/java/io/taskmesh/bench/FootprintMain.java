package io.taskmesh.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.e2e.local.ChildProcess;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.e2e.local.Readiness;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a sidecar's memory and start-up time go: for each variant of JVM flags (added to the deployed ones),
 * in the same run and alternating round by round, a taskmesh sidecar pair is started; its start-to-ready time,
 * idle RSS, threads and Native Memory Tracking summary are read, then after a fixed load (closed loop, then open
 * loop at a fixed rate) its peak RSS (VmHWM) and the summary again. Run it with {@code bench/footprint.sh}.
 */
public final class FootprintMain {
  private static final Pattern NMT_LINE = Pattern.compile("^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)");
  private static final Pattern NMT_TOTAL = Pattern.compile("^Total: reserved=\\d+KB, committed=(\\d+)KB");
  /** NMT categories shown, by their names in {@code VM.native_memory summary}. */
  private static final List<String> CATEGORIES = List.of("Java Heap", "Class", "Shared class space", "Metaspace",
      "Symbol", "Code", "Thread", "Other", "GC", "Compiler", "Internal", "Arena Chunk");

  private FootprintMain() {}

  /** One variant's figures in one round; NMT maps hold committed KB by category, plus {@code Total}. */
  record Sample(String variant, int round, List<Long> startToReadyMillis, long idleRss, int idleThreads,
      long idleClasses, Map<String, Long> idleNmt, long peakRss, int loadedThreads, Map<String, Long> loadedNmt, double throughput,
      long failed, double loadAverage) {}

  public static void main(String[] args) throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(() ->
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroy), "footprint-cleanup"));
    Map<String, SidecarVariant> variants = SidecarVariant.parse("footprint.variants",
        System.getProperty("footprint.variants", "deployed="));
    int rounds = Integer.parseInt(System.getProperty("footprint.rounds", "2"));
    Duration closed = Duration.ofSeconds(Long.parseLong(System.getProperty("footprint.closedSeconds", "15")));
    Duration open = Duration.ofSeconds(Long.parseLong(System.getProperty("footprint.openSeconds", "10")));
    int rate = Integer.parseInt(System.getProperty("footprint.rate", "2000"));
    Path workDir = Files.createTempDirectory("taskmesh-footprint");
    String classpath = Files.readString(Path.of(System.getProperty("bench.classpath.file",
        "bench/target/classpath.txt"))).trim();
    int appPort = FreePorts.next();
    List<Sample> samples = new ArrayList<>();
    String started = Instant.now().toString();
    double loadAtStart = ProcessStats.loadAverage();
    try (ChildProcess app = ChildProcess.startJava("task-service", List.of("-XX:+UseParallelGC", "-Xmx512m"),
        classpath, "io.taskmesh.taskservice.Main",
        List.of("--port", Integer.toString(appPort), "--bind", "127.0.0.1", "--database-url", "jdbc:h2:mem:footprint"),
        Map.of(), workDir.resolve("task-service.log"))) {
      Readiness.await("the task service listens", Duration.ofSeconds(60), List.of(app), () -> Readiness.listening(appPort));
      int taskId = createTask(appPort);
      Topologies topologies = new Topologies(workDir, appPort);
      for (int round = 1; round <= rounds; round++) {
        for (Map.Entry<String, SidecarVariant> variant : variants.entrySet()) {
          System.out.printf("round %d/%d: %s %s%n", round, rounds, variant.getKey(), variant.getValue().describe());
          SidecarVariant withNmt = variant.getValue();
          List<String> flags = new ArrayList<>(List.of("-XX:NativeMemoryTracking=summary"));
          flags.addAll(withNmt.flags());
          withNmt = new SidecarVariant(withNmt.jar(), withNmt.javaHome(), flags, withNmt.environment());
          try (Topology pair = topologies.taskmesh("taskmesh-" + variant.getKey(), withNmt)) {
            samples.add(measure(variant.getKey(), round, pair, taskId, closed, open, rate, jcmd(withNmt)));
          }
        }
      }
    }
    String report = report(samples, variants, started, loadAtStart, closed, open, rate);
    System.out.println(report);
    Path out = Path.of(System.getProperty("footprint.out", "bench/results/footprint-latest.md"));
    Files.writeString(out, report);
    System.out.println("wrote " + out + "; logs in " + workDir);
  }

  /**
   * The task every call reads; asked again (up to 12 times) while the service, just started on a loaded machine,
   * misses its call deadline: nothing is created twice, since a call that timed out is read back first.
   */
  private static int createTask(int appPort) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try (TaskClient client = TaskClient.connect("127.0.0.1:" + appPort)) {
        var existing = client.list(io.taskmesh.taskservice.api.ListTasksRequest.newBuilder().setUserId(1).build()).stream().filter(task -> task.getTitle().equals("footprint payload")).findFirst();
        return existing.isPresent() ? existing.get().getId()
            : client.create("footprint payload", "a small task read again and again", "medium", 1).getId();
      } catch (io.grpc.StatusRuntimeException e) {
        if (attempt == 12) {
          throw e;
        }
        Thread.sleep(5_000);
      }
    }
  }

  private static Sample measure(String variant, int round, Topology pair, int taskId, Duration closed, Duration open,
      int rate, Path jcmd) throws InterruptedException, IOException {
    Thread.sleep(2_000); // start-up work settles (the first health checks, the app's method catalog)
    long server = pair.proxyPids().get(1);
    long idleRss = ProcessStats.rssBytes(server);
    int idleThreads = threads(server);
    long idleClasses = loadedClasses(jcmd, server);
    Map<String, Long> idleNmt = nmt(jcmd, server);
    double loadAverage = ProcessStats.loadAverage();
    ManagedChannel channel = NettyChannelBuilder.forTarget(pair.target()).overrideAuthority(pair.authority())
        .usePlaintext().build();
    try {
      TaskServiceGrpc.TaskServiceFutureStub stub = TaskServiceGrpc.newFutureStub(channel);
      GetTaskRequest request = GetTaskRequest.newBuilder().setId(taskId).build();
      LoadGenerator load = new LoadGenerator(() -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).getTask(request));
      LoadResult closedLoop = load.closedLoop(32, Duration.ZERO, closed);
      LoadResult openLoop = load.openLoop(rate, Duration.ofSeconds(1), open);
      long peak = pair.proxyPids().stream().mapToLong(ProcessStats::peakRssBytes).max().orElse(0);
      return new Sample(variant, round, pair.startToReadyMillis(), idleRss, idleThreads, idleClasses, idleNmt, peak,
          threads(server), nmt(jcmd, server), closedLoop.throughput(), closedLoop.failed() + openLoop.failed(), loadAverage);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The {@code jcmd} of the JVM {@code variant} runs on. */
  private static Path jcmd(SidecarVariant variant) {
    Path java = variant.javaHome().isBlank() ? Topologies.sidecarJava() : Path.of(variant.javaHome(), "bin", "java");
    return java.resolveSibling("jcmd");
  }

  private static int threads(long pid) throws IOException {
    String[] tasks = Path.of("/proc", Long.toString(pid), "task").toFile().list();
    return tasks == null ? 0 : tasks.length;
  }

  /** Classes the JVM has loaded (and not unloaded), from its performance counters. */
  static long loadedClasses(Path jcmd, long pid) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "PerfCounter.print")
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(30, TimeUnit.SECONDS);
    return perfCounter(output, "java.cls.loadedClasses") - perfCounter(output, "java.cls.unloadedClasses");
  }

  static long perfCounter(String counters, String name) {
    for (String line : counters.split("\n")) {
      if (line.startsWith(name + "=")) {
        return Long.parseLong(line.substring(name.length() + 1).trim());
      }
    }
    return 0;
  }

  /** Committed KB per NMT category of a JVM started with {@code -XX:NativeMemoryTracking=summary}. */
  static Map<String, Long> nmt(Path jcmd, long pid) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "VM.native_memory", "summary")
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(30, TimeUnit.SECONDS);
    return parseNmt(output);
  }

  static Map<String, Long> parseNmt(String summary) {
    Map<String, Long> committed = new LinkedHashMap<>();
    for (String line : summary.split("\n")) {
      Matcher total = NMT_TOTAL.matcher(line.trim());
      if (total.find()) {
        committed.put("Total", Long.parseLong(total.group(1)));
      }
      Matcher category = NMT_LINE.matcher(line.trim());
      if (category.find()) {
        committed.put(category.group(1).trim(), Long.parseLong(category.group(2)));
      }
    }
    return committed;
  }

  private static String report(List<Sample> samples, Map<String, SidecarVariant> variants, String started, double loadAtStart,
      Duration closed, Duration open, int rate) {
    StringBuilder md = new StringBuilder();
    md.append("Command: `bench/footprint.sh`, started ").append(started).append(", ended ").append(Instant.now())
        .append("; 1-minute load average ").append(String.format("%.2f", loadAtStart)).append(" at the start, ")
        .append(String.format("%.2f", ProcessStats.loadAverage())).append(" at the end. Machine: ")
        .append(ProcessStats.cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, Linux ").append(System.getProperty("os.version")).append(". Sidecar JVM: ")
        .append(Topologies.sidecarJava()).append(", deployed flags `").append(String.join(" ", Topologies.sidecarFlags()))
        .append("` plus `-XX:NativeMemoryTracking=summary` and each variant's. Load: closed loop at 32 streams for ")
        .append(closed.toSeconds()).append(" s, then ").append(rate).append(" rps open loop for ").append(open.toSeconds())
        .append(" s, GetTask through client sidecar → server sidecar → task service.\n\n");
    md.append("Variants: ");
    variants.forEach((label, variant) -> md.append("`").append(label).append("` = `").append(variant.describe())
        .append("`; "));
    md.append("\n\n| variant | round | start-to-ready ms (client, server) | idle RSS MB | peak RSS MB (max of pair) "
        + "| threads idle / loaded | classes loaded (server, idle) | closed-loop rps | failed | load avg |\n"
        + "|---|---:|---|---:|---:|---|---:|---:|---:|---:|\n");
    for (Sample s : samples) {
      md.append(String.format("| %s | %d | %s | %d | %d | %d / %d | %d | %.0f | %d | %.1f |%n", s.variant(), s.round(),
          s.startToReadyMillis(), s.idleRss() >> 20, s.peakRss() >> 20, s.idleThreads(), s.loadedThreads(),
          s.idleClasses(),
          s.throughput(), s.failed(), s.loadAverage()));
    }
    md.append("\nNative Memory Tracking of the server sidecar, committed MB, idle → after the load:\n\n| variant | round | total |");
    CATEGORIES.forEach(category -> md.append(' ').append(category).append(" |"));
    md.append("\n|---|---:|---:|");
    CATEGORIES.forEach(category -> md.append("---:|"));
    md.append('\n');
    for (Sample s : samples) {
      md.append("| ").append(s.variant()).append(" | ").append(s.round()).append(" | ")
          .append(mb(s.idleNmt(), "Total")).append(" → ").append(mb(s.loadedNmt(), "Total")).append(" |");
      CATEGORIES.forEach(category -> md.append(' ').append(mb(s.idleNmt(), category)).append(" → ")
          .append(mb(s.loadedNmt(), category)).append(" |"));
      md.append('\n');
    }
    return md.toString();
  }

  private static String mb(Map<String, Long> committedKb, String category) {
    Long kb = committedKb.get(category);
    return kb == null ? "–" : String.format("%.1f", kb / 1024.0);
  }
}
