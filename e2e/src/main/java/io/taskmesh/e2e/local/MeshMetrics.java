package io.taskmesh.e2e.local;

import java.net.URI;
import java.util.Map;
import java.util.TreeMap;

/** Reads counters from a sidecar's Prometheus /metrics text. */
public final class MeshMetrics {
  private MeshMetrics() {}

  /** The sum of every sample of {@code metric} whose labels contain all of {@code labels} (e.g. {@code direction="inbound"}). */
  public static double sum(URI admin, String metric, String... labels) {
    double total = 0;
    for (String line : Readiness.get(admin.resolve("/metrics")).split("\n")) {
      if (matches(line, metric, labels)) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  /** Every sample of {@code metric}, by its label set, for a summary. */
  public static Map<String, Double> samples(URI admin, String metric) {
    Map<String, Double> samples = new TreeMap<>();
    for (String line : Readiness.get(admin.resolve("/metrics")).split("\n")) {
      if (matches(line, metric)) {
        int space = line.lastIndexOf(' ');
        samples.put(line.substring(metric.length(), space), Double.parseDouble(line.substring(space + 1)));
      }
    }
    return samples;
  }

  private static boolean matches(String line, String metric, String... labels) {
    if (!line.startsWith(metric + "{") && !line.startsWith(metric + " ")) {
      return false;
    }
    for (String label : labels) {
      if (!line.contains(label)) {
        return false;
      }
    }
    return true;
  }
}
