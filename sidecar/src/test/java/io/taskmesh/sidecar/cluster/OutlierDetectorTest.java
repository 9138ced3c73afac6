package io.taskmesh.sidecar.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.OutlierDetectionPolicy;
import io.taskmesh.sidecar.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class OutlierDetectorTest {
  private final FakeClock clock = new FakeClock();
  private final OutlierDetector<String> detector =
      new OutlierDetector<>(new OutlierDetectionPolicy(3, Duration.ofSeconds(10), 50), clock);

  @Test
  void consecutiveFailuresEjectAndASuccessInBetweenStartsTheCountAgain() {
    detector.onFailure("a", 4);
    detector.onFailure("a", 4);
    detector.onSuccess("a");
    detector.onFailure("a", 4);
    detector.onFailure("a", 4);
    assertThat(detector.isEjected("a")).isFalse();

    assertThat(detector.onFailure("a", 4)).isEqualTo(Duration.ofSeconds(10));
    assertThat(detector.isEjected("a")).isTrue();

    clock.advance(Duration.ofSeconds(10));
    assertThat(detector.isEjected("a")).isFalse();
  }

  @Test
  void anEndpointEjectedAgainStaysOutLongerUpToTenTimesTheBase() {
    Duration[] expected = {Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(40),
        Duration.ofSeconds(80), Duration.ofSeconds(100), Duration.ofSeconds(100)};
    for (Duration ejection : expected) {
      Duration got = null;
      for (int i = 0; i < 3; i++) {
        got = detector.onFailure("a", 4);
      }
      assertThat(got).isEqualTo(ejection);
      clock.advance(ejection);
    }
  }

  @Test
  void neverEjectsMoreThanTheAllowedShareOfTheCluster() {
    for (String endpoint : new String[] {"a", "b", "c"}) {
      for (int i = 0; i < 3; i++) {
        detector.onFailure(endpoint, 3);
      }
    }

    assertThat(detector.isEjected("a")).isTrue();
    assertThat(detector.isEjected("b")).as("50%% of 3 endpoints allows one ejection").isFalse();
    assertThat(detector.isEjected("c")).isFalse();
  }
}
