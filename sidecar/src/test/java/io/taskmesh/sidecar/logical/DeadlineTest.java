package io.taskmesh.sidecar.logical;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.sidecar.route.GrpcTimeout;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DeadlineTest {
  private final long now = System.nanoTime();

  @Test
  void theSoonerOfTheCallersTimeoutAndTheRouteTimeoutWins() {
    Deadline callers = Deadline.of("250m", true, Duration.ofSeconds(5), now);
    assertThat(callers.isRouteTimeout()).isFalse();
    assertThat(callers.allowedMillis()).isEqualTo(250);

    Deadline routes = Deadline.of("30S", true, Duration.ofSeconds(5), now);
    assertThat(routes.isRouteTimeout()).as("a caller cannot ask for more than the route allows").isTrue();
    assertThat(routes.allowedMillis()).isEqualTo(5000);
  }

  @Test
  void aStreamKeepsTheCallersDeadlineWhateverTheRouteTimeout() {
    Deadline deadline = Deadline.of("30S", false, Duration.ofSeconds(5), now);

    assertThat(deadline.isRouteTimeout()).isFalse();
    assertThat(deadline.allowedMillis()).isEqualTo(30_000);
  }

  @Test
  void aUnaryCallWithoutTimeoutGetsTheRouteTimeoutAndAStreamGetsNone() {
    assertThat(Deadline.of(null, true, Duration.ofMillis(400), now).isRouteTimeout()).isTrue();
    assertThat(Deadline.of(null, false, Duration.ofMillis(400), now)).isNull();
    assertThat(Deadline.of(null, true, Duration.ZERO, now)).as("no route timeout configured").isNull();
  }

  @Test
  void theLongestValidTimeoutDoesNotOverflowAndIsForwardedAsAFarDeadline() {
    Deadline deadline = Deadline.of("99999999H", true, Duration.ZERO, now);

    assertThat(deadline.remainingNanos()).isPositive();
    CharSequence forwarded = GrpcTimeout.format(Duration.ofNanos(deadline.remainingNanos()));
    assertThat(GrpcTimeout.parse(forwarded)).hasValueSatisfying(
        timeout -> assertThat(timeout).isGreaterThan(Duration.ofDays(365 * 70)));
  }
}
