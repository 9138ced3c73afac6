package io.taskmesh.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * The TLS paths against each other, from the same run's results: throughput, latency added over the direct path,
 * CPU per request and memory, with the ratios the zero-trust goal is about (taskmesh with mTLS against haproxy with
 * TLS on both hops; BoringSSL against the JDK's TLS; each pair with TLS against itself without).
 */
public final class TlsReport {
  /** CPU per request of the sidecar pair with mTLS, at most this times haproxy's with TLS on both hops. */
  static final double CPU_GOAL = 1.5;
  private static final int LATENCY_RATE = 2_000;

  private TlsReport() {}

  /** Empty unless the results hold a TLS path. */
  public static Optional<String> render(List<ScenarioResult> results) {
    // every taskmesh path (variants of the sidecar's run too, see SidecarVariant) and the haproxy pairs, in run order
    Map<String, List<ScenarioResult>> byPath = new LinkedHashMap<>();
    results.stream().filter(r -> r.topology().startsWith("taskmesh") || r.topology().startsWith("haproxy"))
        .forEach(r -> byPath.computeIfAbsent(r.topology(), path -> new ArrayList<>()).add(r));
    if (byPath.keySet().stream().noneMatch(path -> path.endsWith("-tls") || path.contains("-mtls"))) {
      return Optional.empty();
    }
    List<ScenarioResult> direct = results.stream().filter(r -> r.topology().equals("direct")).toList();
    StringBuilder out = new StringBuilder("\n#### TLS between the proxies (medians over the runs)\n\n");
    out.append("| path | max rps, 64 streams | vs haproxy-tls | added p50 / p99 at 2,000 rps ms (over direct) "
        + "| CPU ms / 1,000 req / proxy | vs haproxy-tls | peak RSS MB per proxy | idle RSS MB |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    byPath.forEach((path, runs) -> out.append(String.format("| %s | %,.0f | %s | %s | %.1f | %s | %.0f | %.0f |%n",
        path, throughput(runs), ratio(byPath, path, "haproxy-tls", TlsReport::throughput),
        added(runs, direct), cpu(runs), ratio(byPath, path, "haproxy-tls", TlsReport::cpu),
        MarkdownReport.medianOf(runs, r -> r.maxRssBytes() / 1048576.0),
        MarkdownReport.medianOf(runs, r -> r.idleRssBytes() / 1048576.0))));

    List<String> findings = new ArrayList<>();
    if (byPath.containsKey("taskmesh-mtls") && byPath.containsKey("haproxy-tls")) {
      double cpuRatio = cpu(byPath.get("taskmesh-mtls")) / cpu(byPath.get("haproxy-tls"));
      findings.add(String.format("Goal, CPU per 1,000 requests per proxy, taskmesh-mtls ≤ %.1f× haproxy-tls: **%s** "
          + "(%.1f / %.1f ms = %.2f×)", CPU_GOAL, cpuRatio <= CPU_GOAL ? "met" : "not met",
          cpu(byPath.get("taskmesh-mtls")), cpu(byPath.get("haproxy-tls")), cpuRatio));
      findings.add(String.format("Throughput, taskmesh-mtls / haproxy-tls: %.2f×",
          throughput(byPath.get("taskmesh-mtls")) / throughput(byPath.get("haproxy-tls"))));
    }
    if (byPath.containsKey("taskmesh-mtls") && byPath.containsKey("taskmesh-mtls-jdk")) {
      List<ScenarioResult> boring = byPath.get("taskmesh-mtls");
      List<ScenarioResult> jdk = byPath.get("taskmesh-mtls-jdk");
      findings.add(String.format("TLS engine, BoringSSL against the JDK's: CPU per request %.2f×, max rps %.2f×, "
          + "peak RSS %+.0f MB per proxy", cpu(boring) / cpu(jdk), throughput(boring) / throughput(jdk),
          MarkdownReport.medianOf(boring, r -> r.maxRssBytes() / 1048576.0)
              - MarkdownReport.medianOf(jdk, r -> r.maxRssBytes() / 1048576.0)));
    }
    for (String[] pair : List.of(new String[] {"taskmesh-mtls", "taskmesh"}, new String[] {"haproxy-tls", "haproxy"})) {
      if (byPath.containsKey(pair[0]) && byPath.containsKey(pair[1])) {
        findings.add(String.format("Cost of TLS, %s against %s: CPU per request %.2f×, max rps %.2f×", pair[0],
            pair[1], cpu(byPath.get(pair[0])) / cpu(byPath.get(pair[1])),
            throughput(byPath.get(pair[0])) / throughput(byPath.get(pair[1]))));
      }
    }
    if (!findings.isEmpty()) {
      out.append('\n');
      findings.forEach(line -> out.append("- ").append(line).append('\n'));
    }
    return Optional.of(out.toString());
  }

  private static double throughput(List<ScenarioResult> runs) {
    return MarkdownReport.median(runs.stream().map(ScenarioResult::closedLoop).toList(), LoadResult::throughput);
  }

  private static double cpu(List<ScenarioResult> runs) {
    return MarkdownReport.medianOf(runs, ScenarioResult::cpuMillisPer1000);
  }

  private static String ratio(Map<String, List<ScenarioResult>> byPath, String path, String against,
      ToDoubleFunction<List<ScenarioResult>> metric) {
    return byPath.containsKey(against)
        ? String.format("%.2f×", metric.applyAsDouble(byPath.get(path)) / metric.applyAsDouble(byPath.get(against)))
        : "–";
  }

  /** p50 and p99 over the direct path's at 2,000 rps; "–" when either was not measured. */
  private static String added(List<ScenarioResult> runs, List<ScenarioResult> direct) {
    if (direct.isEmpty() || runs.stream().anyMatch(r -> !r.openLoop().containsKey(LATENCY_RATE))) {
      return "–";
    }
    List<LoadResult> path = runs.stream().map(r -> r.openLoop().get(LATENCY_RATE)).toList();
    List<LoadResult> base = direct.stream().map(r -> r.openLoop().get(LATENCY_RATE)).toList();
    return String.format("%+.2f / %+.2f", MarkdownReport.median(path, l -> l.percentileMillis(50))
        - MarkdownReport.median(base, l -> l.percentileMillis(50)), MarkdownReport.median(path, l -> l.percentileMillis(99))
        - MarkdownReport.median(base, l -> l.percentileMillis(99)));
  }
}
