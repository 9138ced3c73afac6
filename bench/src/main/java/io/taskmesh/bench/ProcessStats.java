package io.taskmesh.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** CPU time and resident memory of a process and its children, read from Linux's /proc. */
public final class ProcessStats {
  /** USER_HZ: the unit of utime and stime in /proc/PID/stat; 100 on every Linux this runs on. */
  private static final double TICKS_PER_SECOND = 100.0;

  private ProcessStats() {}

  public static double cpuSeconds(long pid) {
    double seconds = 0;
    for (long process : tree(pid)) {
      String stat = read(Path.of("/proc", Long.toString(process), "stat"));
      // fields after the command name, which is in parentheses and may hold spaces
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      seconds += (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
    }
    return seconds;
  }

  /**
   * CPU seconds of the JIT compiler threads ({@code C1/C2 CompilerThread}) of a JVM: start-up work that a
   * long-running sidecar has behind it, reported apart from the proxying itself. 0 for other programs;
   * threads that ended are not counted.
   */
  public static double jitCpuSeconds(long pid) {
    double seconds = 0;
    java.io.File[] tasks = Path.of("/proc", Long.toString(pid), "task").toFile().listFiles();
    for (java.io.File task : tasks == null ? new java.io.File[0] : tasks) {
      String stat;
      try {
        stat = Files.readString(task.toPath().resolve("stat"));
      } catch (IOException e) {
        continue; // the thread ended meanwhile
      }
      String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        seconds += (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
      }
    }
    return seconds;
  }

  public static long rssBytes(long pid) {
    return statusBytes(pid, "VmRSS:");
  }

  /**
   * The largest resident set the process (with its children) has had since it started ({@code VmHWM}): the
   * figure a container's memory limit must hold, however short the peak was.
   */
  public static long peakRssBytes(long pid) {
    return statusBytes(pid, "VmHWM:");
  }

  private static long statusBytes(long pid, String field) {
    long bytes = 0;
    for (long process : tree(pid)) {
      for (String line : read(Path.of("/proc", Long.toString(process), "status")).split("\n")) {
        if (line.startsWith(field)) {
          bytes += Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    }
    return bytes;
  }

  /** The CPU's model name from /proc/cpuinfo, e.g. {@code Intel(R) Xeon(R) Processor}. */
  public static String cpuModel() {
    return read(Path.of("/proc/cpuinfo")).lines().filter(line -> line.startsWith("model name")).findFirst()
        .map(line -> line.substring(line.indexOf(':') + 1).trim()).orElse("unknown CPU");
  }

  /** The machine's 1-minute load average (/proc/loadavg): how busy the shared cores were. */
  public static double loadAverage() {
    return Double.parseDouble(read(Path.of("/proc/loadavg")).split(" ")[0]);
  }

  private static List<Long> tree(long pid) {
    List<Long> processes = new ArrayList<>(List.of(pid));
    ProcessHandle.of(pid).ifPresent(handle -> handle.descendants().forEach(child -> processes.add(child.pid())));
    return processes;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " (has the process exited?)", e);
    }
  }
}
