package io.taskmesh.sidecar.cluster;

import io.taskmesh.config.OutlierDetectionPolicy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Ejects an endpoint after consecutive failures, for a time that doubles each time it is ejected again
 * (capped at ten times the base), and never ejects more than {@code maxEjectionPercent} of the cluster:
 * past that, a failing endpoint keeps its traffic rather than overloading the rest. Successes only reset
 * a counter, so the common path takes no lock.
 *
 * @param <E> how the cluster names an endpoint (e.g. its address)
 */
public final class OutlierDetector<E> {
  private static final int MAX_BACKOFF_MULTIPLIER = 10;

  private volatile OutlierDetectionPolicy policy;
  private final LongSupplier nanoClock;
  private final Map<E, State> states = new ConcurrentHashMap<>();

  public OutlierDetector(OutlierDetectionPolicy policy, LongSupplier nanoClock) {
    this.policy = policy;
    this.nanoClock = nanoClock;
  }

  /** A reloaded policy: applies from the next failure on; ejections in progress run their course. */
  public void usePolicy(OutlierDetectionPolicy newPolicy) {
    this.policy = newPolicy;
  }

  private static final class State {
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    int timesEjected;
    volatile long ejectedUntil;
  }

  public void onSuccess(E endpoint) {
    State state = states.get(endpoint);
    if (state != null) {
      state.consecutiveFailures.set(0);
    }
  }

  /**
   * Counts a failure; returns the ejection it causes, or null when the endpoint stays in.
   *
   * @param clusterSize how many endpoints the cluster has now
   */
  public Duration onFailure(E endpoint, int clusterSize) {
    OutlierDetectionPolicy policy = this.policy;
    State state = states.computeIfAbsent(endpoint, e -> new State());
    if (state.consecutiveFailures.incrementAndGet() < policy.consecutiveFailures()) {
      return null;
    }
    synchronized (this) {
      long now = nanoClock.getAsLong();
      if (state.ejectedUntil > now || ejectedCount(now) + 1 > clusterSize * policy.maxEjectionPercent() / 100) {
        return null;
      }
      state.timesEjected++;
      state.consecutiveFailures.set(0);
      long multiplier = Math.min(MAX_BACKOFF_MULTIPLIER, 1L << Math.min(30, state.timesEjected - 1));
      Duration ejection = policy.baseEjection().multipliedBy(multiplier);
      state.ejectedUntil = now + ejection.toNanos();
      return ejection;
    }
  }

  public boolean isEjected(E endpoint) {
    State state = states.get(endpoint);
    return state != null && state.ejectedUntil > nanoClock.getAsLong();
  }

  /** Whether any endpoint is ejected now: lets the common path skip filtering. */
  public boolean hasEjections() {
    return ejectedCount(nanoClock.getAsLong()) > 0;
  }

  /** Forgets an endpoint that left the cluster. */
  public void remove(E endpoint) {
    states.remove(endpoint);
  }

  private int ejectedCount(long now) {
    int count = 0;
    for (State state : states.values()) {
      if (state.ejectedUntil > now) {
        count++;
      }
    }
    return count;
  }
}
