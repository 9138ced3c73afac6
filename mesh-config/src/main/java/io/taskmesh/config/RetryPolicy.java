package io.taskmesh.config;

import java.time.Duration;
import java.util.List;

/**
 * @param attempts total tries including the first one; 1 means no retry
 * @param retryOn gRPC status names (e.g. {@code UNAVAILABLE}) that may be retried
 * @param budgetPercent retries allowed as a percentage of requests over the budget window
 */
public record RetryPolicy(int attempts, Duration perTryTimeout, List<String> retryOn, int budgetPercent) {

  public RetryPolicy {
    retryOn = List.copyOf(retryOn);
  }
}
