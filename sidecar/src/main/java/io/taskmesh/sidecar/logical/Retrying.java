package io.taskmesh.sidecar.logical;

import io.netty.handler.codec.http2.Http2DataFrame;
import io.taskmesh.config.RetryPolicy;
import io.taskmesh.sidecar.route.Retries;
import java.util.List;

/**
 * One request's retries: its retry policy, the tries made so far, the request body kept to send again
 * ({@link ReplayBuffer}) and the service's retry budget. Decides whether a failed try may go again; the
 * logical call decides whether it is safe to (idempotency, nothing passed to the caller yet).
 */
final class Retrying {
  /** A retry is not started when less than this is left of the deadline. */
  static final long MIN_TIME_LEFT_FOR_RETRY_NANOS = 5_000_000;

  private final RetryPolicy policy;
  private final Retries budgets;
  private final String service;
  /** Null when the request will not be retried (any more). */
  private ReplayBuffer replay;
  private int retriesDone;

  /** Counts the request in the service's budget when its policy allows retries at all. */
  Retrying(RetryPolicy policy, Retries budgets, String service, boolean requestEndsWithHeaders) {
    this.policy = policy;
    this.budgets = budgets;
    this.service = service;
    if (policy.attempts() > 1) {
      replay = new ReplayBuffer();
      if (requestEndsWithHeaders) {
        replay.markEnded();
      }
      budgets.recordRequest(service, policy);
    }
  }

  /** Body frames are kept while the request may still be retried; anything else ends that possibility. */
  void keep(Object requestFrame) {
    if (replay != null && !(requestFrame instanceof Http2DataFrame data && replay.add(data))) {
      release();
    }
  }

  /**
   * Whether a try that failed with {@code status} may go again: the whole request is kept, attempts
   * remain, the status is one the policy retries ({@code anyStatus}: whatever it is), enough of the
   * deadline is left, and the service's budget grants it (counted as taken or refused).
   */
  boolean mayRetry(String status, boolean anyStatus, Deadline deadline) {
    if (replay == null || !replay.replayable() || retriesDone + 1 >= policy.attempts()
        || !(anyStatus || policy.retryOn().contains(status))) {
      return false;
    }
    if (deadline != null && deadline.remainingNanos() < MIN_TIME_LEFT_FOR_RETRY_NANOS) {
      return false;
    }
    return budgets.tryAcquire(service, policy);
  }

  /**
   * Whether a try that failed with {@code status} could go again but for the rest of the request body, which
   * the caller has not sent yet (it is kept as it comes, up to the replay limit).
   */
  boolean retryWaitsForBody(String status) {
    return bodyStillComing() && retriesDone + 1 < policy.attempts() && policy.retryOn().contains(status);
  }

  /** The request is being kept for a retry and has not ended yet. */
  boolean bodyStillComing() {
    return replay != null && !replay.replayable();
  }

  /** A retry is under way; returns how many there have been. */
  int retried() {
    return ++retriesDone;
  }

  int retriesDone() {
    return retriesDone;
  }

  /** Fresh frames of the whole body for a retry's stream, or null when none is kept. */
  List<Http2DataFrame> replayFrames() {
    return replay == null ? null : replay.frames();
  }

  /** The whole body as it was sent, or null when it was not kept whole. */
  byte[] body() {
    return replay == null ? null : replay.bytes();
  }

  void release() {
    if (replay != null) {
      replay.release();
      replay = null;
    }
  }
}
