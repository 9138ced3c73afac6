package io.taskmesh.sidecar.logical;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.sidecar.filter.Outcome.Fault;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FaultsTest {
  private static final Duration ROUTE_TIMEOUT = Duration.ofSeconds(5);
  private final long now = System.nanoTime();

  @Test
  void errorStatusesAreTheUpstreamsUnlessTheRequestWasMalformed() {
    for (String status : new String[] {"UNAVAILABLE", "INTERNAL", "UNKNOWN", "DATA_LOSS"}) {
      assertThat(Faults.ofAnswer(status, true, () -> false)).as(status).isEqualTo(Fault.UPSTREAM);
      assertThat(Faults.ofAnswer(status, true, () -> true)).as(status + " to a malformed body").isEqualTo(Fault.CALLER);
    }
    assertThat(Faults.ofAnswer("CANCELLED", true, () -> false)).isEqualTo(Fault.CALLER);
    assertThat(Faults.ofAnswer("INVALID_ARGUMENT", true, () -> false)).as("an ordinary answer").isEqualTo(Fault.NONE);
    assertThat(Faults.ofAnswer("OK", true, () -> false)).isEqualTo(Fault.NONE);
  }

  @Test
  void aDeadlineIsTheUpstreamsOnlyWhenItHadItsFullTime() {
    assertThat(Faults.upstreamHadItsTime(null, true, ROUTE_TIMEOUT)).as("no deadline: its own").isTrue();
    assertThat(Faults.upstreamHadItsTime(Deadline.of(null, true, ROUTE_TIMEOUT, now), true, ROUTE_TIMEOUT))
        .as("the route timeout").isTrue();
    assertThat(Faults.upstreamHadItsTime(Deadline.of("10S", true, ROUTE_TIMEOUT, now), true, ROUTE_TIMEOUT))
        .as("a caller's deadline longer than the route timeout").isTrue();
    assertThat(Faults.upstreamHadItsTime(Deadline.of("1n", true, ROUTE_TIMEOUT, now), true, ROUTE_TIMEOUT))
        .as("grpc-timeout: 1n").isFalse();
    assertThat(Faults.upstreamHadItsTime(Deadline.of("10S", false, ROUTE_TIMEOUT, now), false, ROUTE_TIMEOUT))
        .as("a stream's deadline").isFalse();
    assertThat(Faults.ofAnswer("DEADLINE_EXCEEDED", false, () -> false)).isEqualTo(Fault.CALLER);
    assertThat(Faults.ofAnswer("DEADLINE_EXCEEDED", true, () -> false)).isEqualTo(Fault.UPSTREAM);
  }
}
