package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.taskmesh.e2e.local.Classpath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./taskmesh} told to stop (SIGTERM, as Ctrl-C's SIGINT) while its story runs: it says it was
 * interrupted, exits with 143, and leaves nothing behind - no process it started, no network namespace, no
 * host link. The runner is a child JVM started as the script starts it, stopped as soon as its first pod runs.
 */
class ClusterMainInterruptTest {
  private static final String CLUSTER = "tmkstop";
  private static final String PREFIX = "tmk-" + CLUSTER;

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void sigtermStopsTheStoryAtOnceAndRemovesEveryPodProcessAndNamespace() throws Exception {
    Optional<String> unavailable = LocalCluster.unavailableReason();
    assumeThat(unavailable).as("the local cluster needs root: %s", unavailable.orElse("")).isEmpty();
    assumeThat(namespaces()).as("another run holds cluster %s", CLUSTER).noneMatch(ns -> ns.startsWith(PREFIX + "-"));
    Path work = Path.of("target", "clusters", CLUSTER).toAbsolutePath();
    Path output = Files.createDirectories(work.getParent()).resolve(CLUSTER + ".out");
    processesNaming(work).forEach(ProcessHandle::destroyForcibly); // a killed earlier run of this test's
    Process runner = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", Classpath.forChildren(),
        "-Dtaskmesh.classpath.file=" + System.getProperty("taskmesh.classpath.file"),
        "-Dtaskmesh.classes.dir=" + System.getProperty("taskmesh.classes.dir"),
        "-DTASKMESH_LOG_LEVEL=WARN",
        ClusterMain.class.getName(), "demo", "--cluster-name", CLUSTER, "--api-server-port", "0",
        "--work-dir", work.toString(), "--no-tracing"))
        .directory(ClusterFixture.REPO.toFile()).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      boolean podRuns = poll(() -> namespaces().stream().filter(ns -> ns.startsWith(PREFIX + "-p"))
          .anyMatch(ns -> !run("ip", "netns", "pids", ns).isBlank()) || !runner.isAlive(), Duration.ofMinutes(4));
      assertThat(runner.isAlive()).as("the runner is still telling its story:%n%s", tail(output)).isTrue();
      assertThat(podRuns).as("a pod's process ran within 4 minutes:%n%s", tail(output)).isTrue();
      List<ProcessHandle> started = runner.descendants().toList();
      assertThat(started).isNotEmpty();

      long signalled = System.nanoTime();
      runner.destroy(); // SIGTERM
      assertThat(runner.waitFor(90, TimeUnit.SECONDS)).as("the runner exits after SIGTERM").isTrue();
      double stopSeconds = (System.nanoTime() - signalled) / 1e9;

      String printed = Files.readString(output, StandardCharsets.UTF_8);
      assertThat(runner.exitValue()).as("128 + SIGTERM:%n%s", tail(output)).isEqualTo(143);
      assertThat(printed).contains("Interrupted: stopping the story").contains("Interrupted; the cluster is removed")
          .doesNotContain("this step failed").doesNotContain("Story told");
      assertThat(started).as("every process the runner started is gone").noneMatch(ProcessHandle::isAlive);
      assertThat(processesNaming(work))
          .as("no process names the run's directory (PostgreSQL's data directory is there)").isEmpty();
      assertThat(namespaces()).noneMatch(ns -> ns.startsWith(PREFIX + "-"));
      assertThat(run("ip", "link", "show").lines()).noneMatch(line -> line.contains(" " + PREFIX + "@")
          || line.contains(" " + PREFIX + ":"));
      assertThat(stopSeconds).as("stopped at once, not after the pods' grace periods").isLessThan(30);
    } finally {
      runner.descendants().forEach(ProcessHandle::destroyForcibly);
      runner.destroyForcibly();
      runner.waitFor(30, TimeUnit.SECONDS);
      for (String ns : namespaces()) {
        if (ns.startsWith(PREFIX + "-")) {
          run("ip", "netns", "del", ns);
        }
      }
      run("ip", "link", "del", PREFIX);
    }
  }

  private static List<ProcessHandle> processesNaming(Path directory) {
    return ProcessHandle.allProcesses().filter(process -> process.info().commandLine()
        .map(line -> line.contains(directory.toString())).orElse(false)).toList();
  }

  private static List<String> namespaces() {
    return run("ip", "netns", "list").lines().filter(line -> !line.isBlank())
        .map(line -> line.strip().split("\\s+")[0]).toList();
  }

  private static String run(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor(30, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean poll(java.util.function.BooleanSupplier condition, Duration bound) throws InterruptedException {
    long giveUp = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > giveUp) {
        return false;
      }
      Thread.sleep(250);
    }
    return true;
  }

  private static String tail(Path output) throws IOException {
    List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }
}
