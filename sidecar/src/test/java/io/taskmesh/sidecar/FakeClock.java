package io.taskmesh.sidecar;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A nanosecond clock that moves only when a test says so, so time-based rules are tested without waiting. */
public final class FakeClock implements LongSupplier {
  private long nanos = 1_000_000_000L;

  @Override
  public long getAsLong() {
    return nanos;
  }

  public void advance(Duration duration) {
    nanos += duration.toNanos();
  }
}
