package io.taskmesh.sidecar.route;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Keeps retries to a share of requests over a sliding window, so that retries cannot multiply an outage:
 * with every call failing, at most {@code percent}% more calls reach the upstream (plus a small floor per
 * window, so a quiet service can still retry its rare failures). The window is split into buckets that
 * expire one by one.
 */
public final class RetryBudget {
  private static final int BUCKETS = 10;

  private final int percent;
  private final int minRetriesPerWindow;
  private final long bucketNanos;
  private final LongSupplier nanoClock;
  private final long[] requests = new long[BUCKETS];
  private final long[] retries = new long[BUCKETS];
  private long currentBucket;

  public RetryBudget(int percent, int minRetriesPerWindow, Duration window, LongSupplier nanoClock) {
    this.percent = percent;
    this.minRetriesPerWindow = minRetriesPerWindow;
    this.bucketNanos = Math.max(1, window.toNanos() / BUCKETS);
    this.nanoClock = nanoClock;
    this.currentBucket = nanoClock.getAsLong() / bucketNanos;
  }

  /** Counts one original request (not a retry). */
  public synchronized void recordRequest() {
    requests[bucket()]++;
  }

  /** Takes one retry from the budget; false when the budget is spent, and nothing is taken. */
  public synchronized boolean tryAcquireRetry() {
    int index = bucket();
    long allowed = Math.max(minRetriesPerWindow, sum(requests) * percent / 100);
    if (sum(retries) >= allowed) {
      return false;
    }
    retries[index]++;
    return true;
  }

  public synchronized long retriesInWindow() {
    bucket();
    return sum(retries);
  }

  public synchronized long requestsInWindow() {
    bucket();
    return sum(requests);
  }

  /** Advances the window to now, clearing the buckets that have expired, and returns the current one. */
  private int bucket() {
    long now = nanoClock.getAsLong() / bucketNanos;
    long expired = Math.min(BUCKETS, now - currentBucket);
    for (long b = 1; b <= expired; b++) {
      int index = (int) ((currentBucket + b) % BUCKETS);
      requests[index] = 0;
      retries[index] = 0;
    }
    currentBucket = Math.max(currentBucket, now);
    return (int) (currentBucket % BUCKETS);
  }

  private static long sum(long[] counts) {
    long total = 0;
    for (long count : counts) {
      total += count;
    }
    return total;
  }
}
