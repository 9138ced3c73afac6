package io.taskmesh.config;

import java.time.Duration;
import java.util.List;

/**
 * @param attempts total tries including the first one; 1 means no retry
 * @param retryOn gRPC status names (e.g. {@code UNAVAILABLE}) that may be retried
 * @param budgetPercent retries allowed as a percentage of requests over the budget window
 * @param idempotentMethods gRPC method paths ({@code /package.Service/Method}) safe to send twice although
 *     their proto does not say so: like methods marked {@code IDEMPOTENT} or {@code NO_SIDE_EFFECTS}, they may
 *     be retried after a per-try timeout or a reset, when the upstream may already have acted on them
 */
public record RetryPolicy(int attempts, Duration perTryTimeout, List<String> retryOn, int budgetPercent,
    List<String> idempotentMethods) {

  public RetryPolicy {
    retryOn = List.copyOf(retryOn);
    idempotentMethods = List.copyOf(idempotentMethods);
  }

  /** A policy that trusts only the proto's idempotency marks. */
  public RetryPolicy(int attempts, Duration perTryTimeout, List<String> retryOn, int budgetPercent) {
    this(attempts, perTryTimeout, retryOn, budgetPercent, List.of());
  }
}
