package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The TLS summary states the goal from the figures of the same run: met at 1.5× haproxy's CPU, not met above. */
class TlsReportTest {

  @Test
  void theCpuGoalIsMetAtOneAndAHalfTimesHaproxysAndNotAbove() {
    String met = TlsReport.render(List.of(result("taskmesh-mtls", 75.0, 9_000), result("haproxy-tls", 50.0, 10_000)))
        .orElseThrow();
    String notMet = TlsReport.render(List.of(result("taskmesh-mtls", 75.5, 9_000), result("haproxy-tls", 50.0, 10_000)))
        .orElseThrow();

    assertThat(met).contains("**met** (75.0 / 50.0 ms = 1.50×)").contains("taskmesh-mtls / haproxy-tls: 0.90×");
    assertThat(notMet).contains("**not met** (75.5 / 50.0 ms = 1.51×)");
  }

  @Test
  void latencyIsAddedOverTheDirectPathAndEnginesAreComparedWhenBothRan() {
    String report = TlsReport.render(List.of(result("direct", 0, 20_000), result("taskmesh-mtls", 60.0, 9_000),
        result("taskmesh-mtls-jdk", 120.0, 6_000))).orElseThrow();

    assertThat(report).contains("| taskmesh-mtls | 9,000 | – | +0.00 / +0.00 | 60.0 |")
        .contains("BoringSSL against the JDK's: CPU per request 0.50×, max rps 1.50×");
  }

  @Test
  void aVariantOfTheSidecarsRunGetsItsOwnRowAgainstHaproxy() {
    String report = TlsReport.render(List.of(result("taskmesh-mtls", 90.0, 9_000), result("taskmesh-mtls-c2", 60.0, 9_500),
        result("haproxy-tls", 50.0, 10_000), result("nginx", 40.0, 10_000))).orElseThrow();

    assertThat(report).contains("| taskmesh-mtls-c2 | 9,500 | 0.95× | – | 60.0 | 1.20× |")
        .contains("**not met** (90.0 / 50.0 ms = 1.80×)").doesNotContain("nginx");
  }

  @Test
  void plaintextRunsHaveNoTlsSummary() {
    assertThat(TlsReport.render(List.of(result("taskmesh", 60.0, 9_000), result("haproxy", 30.0, 12_000)))).isEmpty();
  }

  private static ScenarioResult result(String path, double cpuPer1000, long requestsPerSecond) {
    Histogram latency = new Histogram(3);
    latency.recordValue(1_000);
    LoadResult load = new LoadResult(latency, requestsPerSecond, Map.of(), 0, 1.0);
    return new ScenarioResult(path, 1, Map.of(2_000, load), load, cpuPer1000, 0, 100L << 20, 0, 90L << 20, 0.5, null);
  }
}
