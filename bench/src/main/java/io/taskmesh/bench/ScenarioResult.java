package io.taskmesh.bench;

import java.util.Map;

/**
 * One run of one topology.
 *
 * @param openLoop by requests per second
 * @param cpuMillisPer1000 CPU milliseconds per 1,000 requests, per proxy process (0 for direct)
 * @param jitMillisPer1000 the part of {@code cpuMillisPer1000} spent by JIT compiler threads (0 for non-JVMs)
 * @param maxRssBytes the peak resident set (VmHWM) of the larger proxy process by the end of the run (0 for direct)
 * @param startToReadyMillis the slower proxy's time from process start until ready (0 for direct)
 * @param idleRssBytes the larger proxy's resident set once ready, before any request (0 for direct)
 * @param loadAverage the machine's 1-minute load average as the measurement began (others share the cores)
 * @param overload the run past saturation, or {@code null} when none was asked for
 */
public record ScenarioResult(
    String topology, int run, Map<Integer, LoadResult> openLoop, LoadResult closedLoop,
    double cpuMillisPer1000, double jitMillisPer1000, long maxRssBytes, long startToReadyMillis, long idleRssBytes,
    double loadAverage, OverloadResult overload) {}
