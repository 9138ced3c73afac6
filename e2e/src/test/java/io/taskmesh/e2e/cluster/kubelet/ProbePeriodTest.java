package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProbePeriodTest {
  private static final Probe EVERY_FIVE_SECONDS = new ProbeBuilder().withPeriodSeconds(5).build();

  @Test
  void aProbeRunsAtItsOwnPeriodOrTenSecondsWithoutOne() {
    Prober kubelet = new Prober(Optional.empty());
    assertThat(kubelet.period(EVERY_FIVE_SECONDS)).isEqualTo(Duration.ofSeconds(5));
    assertThat(kubelet.period(new Probe())).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void theDemosCapShortensLongerPeriodsOnlyAndLeavesShorterOnes() {
    Prober demo = new Prober(Optional.of(Duration.ofSeconds(1)));
    assertThat(demo.period(EVERY_FIVE_SECONDS)).isEqualTo(Duration.ofSeconds(1));
    assertThat(demo.period(new ProbeBuilder().withPeriodSeconds(1).build())).isEqualTo(Duration.ofSeconds(1));
    assertThat(new Prober(Optional.of(Duration.ofSeconds(3))).period(new ProbeBuilder().withPeriodSeconds(2).build()))
        .isEqualTo(Duration.ofSeconds(2));
  }
}
