package io.taskmesh.bench;

import org.HdrHistogram.Histogram;

/**
 * What one measured run saw. Latencies are in microseconds; in an open-loop run each is counted from the
 * moment the request was due, not from when it was sent, so a stalled system is not flattered.
 *
 * @param overloaded requests never sent because too many were already outstanding (open loop only)
 */
public record LoadResult(Histogram latencyMicros, long succeeded, long failed, long overloaded, double seconds) {

  public double throughput() {
    return succeeded / seconds;
  }

  public double percentileMillis(double percentile) {
    return latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }
}
