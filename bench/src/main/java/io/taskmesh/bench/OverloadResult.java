package io.taskmesh.bench;

/**
 * An open-loop run at a multiple of the path's measured maximum throughput: whether the proxies stayed up,
 * how far their memory grew, and how the requests they could not serve failed.
 *
 * @param offeredRate requests per second the load generator aimed at
 * @param peakRssBytes the larger proxy's peak resident set (VmHWM) after the run
 * @param proxiesAlive whether every proxy process was still running when the run ended
 */
public record OverloadResult(int offeredRate, LoadResult load, long peakRssBytes, boolean proxiesAlive) {}
