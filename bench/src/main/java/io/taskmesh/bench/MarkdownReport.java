package io.taskmesh.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The results as Markdown: medians over the runs, with the spread (min–max) where it matters. */
public final class MarkdownReport {
  private MarkdownReport() {}

  public static String render(List<ScenarioResult> results, List<Integer> rates, String header) {
    Map<String, List<ScenarioResult>> byTopology = new LinkedHashMap<>();
    results.forEach(r -> byTopology.computeIfAbsent(r.topology(), k -> new ArrayList<>()).add(r));
    StringBuilder out = new StringBuilder(header).append("\n\n");

    out.append("| path | rate (rps) | p50 ms | p90 ms | p99 ms (min–max) | p99.9 ms | failed (by gRPC code) |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|\n");
    byTopology.forEach((topology, runs) -> {
      for (int rate : rates) {
        List<LoadResult> loads = runs.stream().map(r -> r.openLoop().get(rate)).toList();
        out.append(String.format("| %s | %,d | %.2f | %.2f | %.2f (%.2f–%.2f) | %.2f | %s |%n", topology, rate,
            median(loads, l -> l.percentileMillis(50)), median(loads, l -> l.percentileMillis(90)),
            median(loads, l -> l.percentileMillis(99)), min(loads, l -> l.percentileMillis(99)),
            max(loads, l -> l.percentileMillis(99)), median(loads, l -> l.percentileMillis(99.9)),
            failures(loads) + notSent(loads)));
      }
    });

    out.append("\n| path | max throughput, 64 streams (rps, min–max) | vs direct | CPU ms / 1,000 req / proxy (min–max)"
        + " | of which JIT compiler | max proxy RSS under load MB | idle proxy RSS MB | proxy start-to-ready ms (min–max) | load avg (min–max) |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double direct = byTopology.containsKey("direct")
        ? median(byTopology.get("direct").stream().map(ScenarioResult::closedLoop).toList(), LoadResult::throughput) : 0;
    byTopology.forEach((topology, runs) -> {
      List<LoadResult> closed = runs.stream().map(ScenarioResult::closedLoop).toList();
      double throughput = median(closed, LoadResult::throughput);
      boolean proxied = !topology.equals("direct");
      out.append(String.format("| %s | %,.0f (%,.0f–%,.0f) | %s | %s | %s | %s | %s | %s | %.1f–%.1f |%n", topology,
          throughput, min(closed, LoadResult::throughput), max(closed, LoadResult::throughput),
          direct == 0 ? "–" : String.format("%.2f×", throughput / direct),
          proxied ? spread(runs, ScenarioResult::cpuMillisPer1000, "%.1f") : "–",
          proxied ? String.format("%.1f", medianOf(runs, ScenarioResult::jitMillisPer1000)) : "–",
          proxied ? String.format("%.0f", medianOf(runs, r -> r.maxRssBytes() / 1048576.0)) : "–",
          proxied ? String.format("%.0f", medianOf(runs, r -> r.idleRssBytes() / 1048576.0)) : "–",
          proxied ? spread(runs, r -> r.startToReadyMillis(), "%.0f") : "–",
          runs.stream().mapToDouble(ScenarioResult::loadAverage).min().orElse(0),
          runs.stream().mapToDouble(ScenarioResult::loadAverage).max().orElse(0)));
    });
    if (results.stream().anyMatch(r -> r.overload() != null)) {
      out.append("\n| path | run | offered rps (3× its max) | answered rps | p99 ms | failed (by gRPC code) | not sent (generator full)"
          + " | proxy peak RSS MB | proxies up after |\n");
      out.append("|---|---:|---:|---:|---:|---|---:|---:|---|\n");
      results.stream().filter(r -> r.overload() != null).forEach(r -> {
        OverloadResult o = r.overload();
        out.append(String.format("| %s | %d | %,d | %,.0f | %.2f | %s | %,d | %s | %s |%n", r.topology(), r.run(),
            o.offeredRate(), o.load().throughput(), o.load().percentileMillis(99), failures(List.of(o.load())),
            o.load().overloaded(), !r.topology().equals("direct") ? String.format("%.0f", o.peakRssBytes() / 1048576.0) : "–",
            o.proxiesAlive() ? "yes" : "NO"));
      });
    }
    return out.toString();
  }

  private static String notSent(List<LoadResult> loads) {
    long notSent = loads.stream().mapToLong(LoadResult::overloaded).sum();
    return notSent == 0 ? "" : String.format(" + %,d not sent (generator full)", notSent);
  }

  /** The failed requests over {@code loads}, with their gRPC codes: {@code 195 (RESOURCE_EXHAUSTED 195)}. */
  private static String failures(List<LoadResult> loads) {
    Map<String, Long> byCode = new java.util.TreeMap<>();
    loads.forEach(l -> l.failuresByCode().forEach((code, count) -> byCode.merge(code, count, Long::sum)));
    long total = byCode.values().stream().mapToLong(Long::longValue).sum();
    return total == 0 ? "0" : total + " (" + String.join(", ", byCode.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue()).toList()) + ")";
  }

  static double median(List<LoadResult> values, ToDoubleFunction<LoadResult> metric) {
    List<Double> sorted = values.stream().map(metric::applyAsDouble).sorted(Comparator.naturalOrder()).toList();
    return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
  }

  static double medianOf(List<ScenarioResult> runs, ToDoubleFunction<ScenarioResult> metric) {
    List<Double> sorted = runs.stream().map(metric::applyAsDouble).sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  /** The median with the spread over the runs, e.g. {@code 80.4 (77.0–91.2)}. */
  private static String spread(List<ScenarioResult> runs, ToDoubleFunction<ScenarioResult> metric, String format) {
    return String.format(format + " (" + format + "–" + format + ")", medianOf(runs, metric),
        runs.stream().mapToDouble(metric).min().orElse(0), runs.stream().mapToDouble(metric).max().orElse(0));
  }

  private static double min(List<LoadResult> values, ToDoubleFunction<LoadResult> metric) {
    return values.stream().mapToDouble(metric).min().orElse(0);
  }

  private static double max(List<LoadResult> values, ToDoubleFunction<LoadResult> metric) {
    return values.stream().mapToDouble(metric).max().orElse(0);
  }
}
