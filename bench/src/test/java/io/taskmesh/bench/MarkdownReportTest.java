package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The throughput table compares each path with the direct one of the same run, and says so when there was none. */
class MarkdownReportTest {

  @Test
  void throughputIsARatioToTheDirectPathOfTheSameRun() {
    String report = MarkdownReport.render(List.of(result("direct", 20_000), result("taskmesh", 5_000)), List.of(2_000), "");

    assertThat(report).contains("| direct | 20,000 (20,000–20,000) | 1.00× |").contains("| taskmesh | 5,000 (5,000–5,000) | 0.25× |");
  }

  @Test
  void withoutADirectPathThereIsNoRatioRatherThanAZeroOne() {
    String report = MarkdownReport.render(List.of(result("taskmesh", 5_000)), List.of(2_000), "");

    assertThat(report).contains("| taskmesh | 5,000 (5,000–5,000) | – |").doesNotContain("0.00×");
  }

  private static ScenarioResult result(String path, long requestsPerSecond) {
    Histogram latency = new Histogram(3);
    latency.recordValue(1_000);
    LoadResult load = new LoadResult(latency, requestsPerSecond, Map.of(), 0, 1.0);
    return new ScenarioResult(path, 1, Map.of(2_000, load), load, 60.0, 0, 100L << 20, 0, 90L << 20, 0.5, null);
  }
}
