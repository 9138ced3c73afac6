package io.taskmesh.bench;

import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one measured run saw. Latencies are in microseconds; in an open-loop run each is counted from the
 * moment the request was due, not from when it was sent, so a stalled system is not flattered.
 *
 * @param failuresByCode the failed requests by gRPC status code name, e.g. {@code RESOURCE_EXHAUSTED}
 * @param overloaded requests never sent because too many were already outstanding (open loop only)
 */
public record LoadResult(Histogram latencyMicros, long succeeded, Map<String, Long> failuresByCode, long overloaded,
    double seconds) {

  public LoadResult {
    failuresByCode = Map.copyOf(failuresByCode);
  }

  public long failed() {
    return failuresByCode.values().stream().mapToLong(Long::longValue).sum();
  }

  public double throughput() {
    return succeeded / seconds;
  }

  public double percentileMillis(double percentile) {
    return latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }
}
