package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.ClientRateLimitConfig;
import io.taskmesh.config.ForwardedForTrust;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClientRateLimiterTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void eachClientHasItsOwnBucketRefilledPerMinute() {
    ClientRateLimiter limiter = new ClientRateLimiter(new ClientRateLimitConfig(2, 100, 100, 20, ForwardedForTrust.NONE), now::get);
    assertThat(limiter.tryAcquire("a")).isZero();
    assertThat(limiter.tryAcquire("a")).isZero();
    assertThat(limiter.tryAcquire("a")).isEqualTo(TimeUnit.SECONDS.toNanos(30));
    assertThat(limiter.tryAcquire("b")).isZero();
    now.addAndGet(TimeUnit.SECONDS.toNanos(30));
    assertThat(limiter.tryAcquire("a")).isZero();
  }

  @Test
  void aMillionRotatingAddressesKeepAtMostMaxTrackedClients() {
    ClientRateLimiter limiter = new ClientRateLimiter(new ClientRateLimitConfig(100, 1_000, 100, 20, ForwardedForTrust.NONE), now::get);
    for (int i = 0; i < 1_000_000; i++) {
      limiter.tryAcquire("10." + (i >> 16) + "." + ((i >> 8) & 0xff) + "." + (i & 0xff));
    }
    assertThat(limiter.trackedClients()).isEqualTo(1_000);
  }

  @Test
  void theLeastRecentlySeenClientIsForgottenFirst() {
    ClientRateLimiter limiter = new ClientRateLimiter(new ClientRateLimitConfig(1, 2, 100, 20, ForwardedForTrust.NONE), now::get);
    limiter.tryAcquire("busy");
    limiter.tryAcquire("once");
    limiter.tryAcquire("busy");
    limiter.tryAcquire("new"); // evicts "once", not "busy"
    assertThat(limiter.tryAcquire("busy")).isPositive();
    assertThat(limiter.tryAcquire("once")).isZero();
  }
}
