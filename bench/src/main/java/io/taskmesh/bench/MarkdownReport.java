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

    out.append("| path | rate (rps) | p50 ms | p90 ms | p99 ms (min–max) | p99.9 ms | failed |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|\n");
    byTopology.forEach((topology, runs) -> {
      for (int rate : rates) {
        List<LoadResult> loads = runs.stream().map(r -> r.openLoop().get(rate)).toList();
        out.append(String.format("| %s | %,d | %.2f | %.2f | %.2f (%.2f–%.2f) | %.2f | %d |%n", topology, rate,
            median(loads, l -> l.percentileMillis(50)), median(loads, l -> l.percentileMillis(90)),
            median(loads, l -> l.percentileMillis(99)), min(loads, l -> l.percentileMillis(99)),
            max(loads, l -> l.percentileMillis(99)), median(loads, l -> l.percentileMillis(99.9)),
            loads.stream().mapToLong(l -> l.failed() + l.overloaded()).sum()));
      }
    });

    out.append("\n| path | max throughput, 64 streams (rps, min–max) | vs direct | CPU ms / 1,000 req / proxy | max proxy RSS MB |\n");
    out.append("|---|---:|---:|---:|---:|\n");
    double direct = byTopology.containsKey("direct")
        ? median(byTopology.get("direct").stream().map(ScenarioResult::closedLoop).toList(), LoadResult::throughput) : 0;
    byTopology.forEach((topology, runs) -> {
      List<LoadResult> closed = runs.stream().map(ScenarioResult::closedLoop).toList();
      double throughput = median(closed, LoadResult::throughput);
      out.append(String.format("| %s | %,.0f (%,.0f–%,.0f) | %.2f× | %s | %s |%n", topology, throughput,
          min(closed, LoadResult::throughput), max(closed, LoadResult::throughput),
          direct == 0 ? 0 : throughput / direct,
          topology.equals("direct") ? "–" : String.format("%.1f", medianOf(runs, ScenarioResult::cpuMillisPer1000)),
          topology.equals("direct") ? "–" : String.format("%.0f", medianOf(runs, r -> r.maxRssBytes() / 1048576.0))));
    });
    return out.toString();
  }

  private static double median(List<LoadResult> values, ToDoubleFunction<LoadResult> metric) {
    List<Double> sorted = values.stream().map(metric::applyAsDouble).sorted(Comparator.naturalOrder()).toList();
    return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
  }

  private static double medianOf(List<ScenarioResult> runs, ToDoubleFunction<ScenarioResult> metric) {
    List<Double> sorted = runs.stream().map(metric::applyAsDouble).sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static double min(List<LoadResult> values, ToDoubleFunction<LoadResult> metric) {
    return values.stream().mapToDouble(metric).min().orElse(0);
  }

  private static double max(List<LoadResult> values, ToDoubleFunction<LoadResult> metric) {
    return values.stream().mapToDouble(metric).max().orElse(0);
  }
}
