package io.taskmesh.sidecar.filter;

import java.util.function.LongSupplier;

/**
 * A token bucket: refilled continuously at {@code ratePerSecond}, holding at most {@code burst} tokens; a
 * request takes one. resilience4j's RateLimiter counts per fixed period and has no burst above the rate,
 * which is why this one is written here.
 */
public final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private final LongSupplier nanoClock;
  private double tokens;
  private long lastRefill;

  public TokenBucket(double ratePerSecond, int burst, LongSupplier nanoClock) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.tokens = burst;
    this.lastRefill = nanoClock.getAsLong();
  }

  /**
   * Takes a token if there is one.
   *
   * @return 0 when a token was taken, else the nanoseconds until the next one (the caller's retry hint)
   */
  public synchronized long tryTake() {
    long now = nanoClock.getAsLong();
    tokens = Math.min(burst, tokens + (now - lastRefill) * ratePerNano);
    lastRefill = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return (long) Math.ceil((1 - tokens) / ratePerNano);
  }
}
