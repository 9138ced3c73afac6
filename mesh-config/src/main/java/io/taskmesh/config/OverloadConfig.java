package io.taskmesh.config;

import java.time.Duration;

/**
 * When the proxy refuses new streams to protect itself ({@code overload:}): answered RESOURCE_EXHAUSTED (gRPC)
 * or 503 (HTTP) with {@code taskmesh-error: ...; reason=overloaded} while any measure is over its threshold.
 *
 * @param maxHeapPercent heap in use after the last collection, as a percentage of the maximum heap
 * @param maxDirectMemoryPercent direct (off-heap) buffer memory in use, as a percentage of its maximum
 * @param maxEventLoopLag how late a task scheduled on an event loop may run; zero (the default) only measures it:
 *     on a node whose CPU is oversubscribed every loop runs late and the proxy would refuse all traffic
 * @param sampleInterval how often the three are measured
 */
public record OverloadConfig(int maxHeapPercent, int maxDirectMemoryPercent, Duration maxEventLoopLag,
    Duration sampleInterval) {
  public static final OverloadConfig DEFAULT = new OverloadConfig(90, 80, Duration.ZERO, Duration.ofMillis(250));
}
