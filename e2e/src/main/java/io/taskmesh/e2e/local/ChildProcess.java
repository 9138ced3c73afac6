package io.taskmesh.e2e.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One process of the local mesh or a benchmark (a replica, a sidecar, a peer proxy), its output in a log file. */
public final class ChildProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Path log;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** Flags for a JVM that should start fast and stay small, like every process of the local mesh. */
  public static final List<String> SMALL_JVM =
      List.of("-XX:+UseSerialGC", "-Xms32m", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  /** Starts {@code mainClass} in a new JVM with {@code jvmFlags} on {@code classpath}. */
  public static ChildProcess startJava(String name, List<String> jvmFlags, String classpath, String mainClass,
      List<String> args, Map<String, String> env, Path log) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.addAll(List.of("-cp", classpath, mainClass));
    command.addAll(args);
    return start(name, command, env, log);
  }

  /** Starts any program, its output and errors going to {@code log}. */
  public static ChildProcess start(String name, List<String> command, Map<String, String> env, Path log) {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(env);
    try {
      return new ChildProcess(name, builder.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + command.get(0) + ")", e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Why the process is gone, with the last lines it wrote, for a runner that stops because of it. */
  public String exitReport(int lines) {
    String tail;
    try {
      List<String> all = java.nio.file.Files.readAllLines(log, java.nio.charset.StandardCharsets.UTF_8);
      tail = String.join(System.lineSeparator() + "    ", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | java.io.UncheckedIOException e) {
      tail = "(its log " + log + " cannot be read: " + e.getMessage() + ")";
    }
    return name + " exited with status " + process.exitValue() + "; the last lines of " + log + ":"
        + System.lineSeparator() + "    " + tail;
  }

  /** SIGKILL: the process dies at once, as a crashed pod would. */
  public void kill() {
    process.destroyForcibly();
    waitForExit(10);
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!waitForExit(30)) {
      kill();
    }
  }

  private boolean waitForExit(int seconds) {
    try {
      return process.waitFor(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
