package io.taskmesh.sidecar.filter;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.sidecar.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private final FakeClock clock = new FakeClock();

  @Test
  void aBurstAboveTheBucketIsRefusedForTheExcessOnly() {
    TokenBucket bucket = new TokenBucket(10, 20, clock);

    int admitted = 0;
    for (int i = 0; i < 50; i++) {
      if (bucket.tryTake() == 0) {
        admitted++;
      }
    }

    assertThat(admitted).isEqualTo(20);
  }

  @Test
  void tokensComeBackAtTheRateAndTheRefusalSaysWhen() {
    TokenBucket bucket = new TokenBucket(10, 1, clock);
    assertThat(bucket.tryTake()).isZero();

    long wait = bucket.tryTake();
    assertThat(Duration.ofNanos(wait)).isBetween(Duration.ofMillis(99), Duration.ofMillis(100));

    clock.advance(Duration.ofMillis(100));
    assertThat(bucket.tryTake()).isZero();
  }

  @Test
  void anIdleBucketFillsOnlyUpToTheBurst() {
    TokenBucket bucket = new TokenBucket(100, 5, clock);
    clock.advance(Duration.ofMinutes(1));

    int admitted = 0;
    while (bucket.tryTake() == 0) {
      admitted++;
    }

    assertThat(admitted).isEqualTo(5);
  }
}
