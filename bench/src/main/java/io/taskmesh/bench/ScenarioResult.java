package io.taskmesh.bench;

import java.util.Map;

/**
 * One run of one topology.
 *
 * @param openLoop by requests per second
 * @param cpuMillisPer1000 CPU milliseconds per 1,000 requests, per proxy process (0 for direct)
 * @param maxRssBytes the largest resident set of any proxy process during the run (0 for direct)
 */
public record ScenarioResult(
    String topology, int run, Map<Integer, LoadResult> openLoop, LoadResult closedLoop,
    double cpuMillisPer1000, long maxRssBytes) {}
