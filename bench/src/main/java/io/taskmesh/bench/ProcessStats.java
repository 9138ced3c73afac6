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

  public static long rssBytes(long pid) {
    long bytes = 0;
    for (long process : tree(pid)) {
      for (String line : read(Path.of("/proc", Long.toString(process), "status")).split("\n")) {
        if (line.startsWith("VmRSS:")) {
          bytes += Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    }
    return bytes;
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
