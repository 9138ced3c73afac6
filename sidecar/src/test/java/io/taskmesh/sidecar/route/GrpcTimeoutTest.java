package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GrpcTimeoutTest {

  @Test
  void readsEveryUnitOfTheProtocol() {
    assertThat(GrpcTimeout.parse("2H")).contains(Duration.ofHours(2));
    assertThat(GrpcTimeout.parse("3M")).contains(Duration.ofMinutes(3));
    assertThat(GrpcTimeout.parse("5S")).contains(Duration.ofSeconds(5));
    assertThat(GrpcTimeout.parse("250m")).contains(Duration.ofMillis(250));
    assertThat(GrpcTimeout.parse("999u")).contains(Duration.ofNanos(999_000));
    assertThat(GrpcTimeout.parse("99999999n")).contains(Duration.ofNanos(99_999_999));
  }

  @Test
  void ignoresWhatTheProtocolDoesNotAllow() {
    assertThat(GrpcTimeout.parse("")).isEmpty();
    assertThat(GrpcTimeout.parse("5")).isEmpty();
    assertThat(GrpcTimeout.parse("5s")).isEmpty();
    assertThat(GrpcTimeout.parse("123456789S")).as("nine digits").isEmpty();
    assertThat(GrpcTimeout.parse("-5S")).isEmpty();
    assertThat(GrpcTimeout.parse(null)).isEmpty();
  }

  @Test
  void writesTheFinestUnitThatFitsRoundingUpSoNoHopShortensTheDeadline() {
    assertThat(GrpcTimeout.format(Duration.ofMillis(50)).toString()).isEqualTo("50000000n");
    assertThat(GrpcTimeout.format(Duration.ofMillis(150)).toString()).isEqualTo("150000u");
    assertThat(GrpcTimeout.format(Duration.ofSeconds(5)).toString()).isEqualTo("5000000u");
    assertThat(GrpcTimeout.format(Duration.ofMinutes(30)).toString()).isEqualTo("1800000m");
    assertThat(GrpcTimeout.format(Duration.ofDays(3)).toString()).isEqualTo("259200S");
    assertThat(GrpcTimeout.format(Duration.ofNanos(150_000_000_100L)).toString()).as("micros need nine digits").isEqualTo("150001m");
    for (Duration d : new Duration[] {Duration.ofMillis(7), Duration.ofSeconds(42), Duration.ofHours(5)}) {
      assertThat(GrpcTimeout.parse(GrpcTimeout.format(d)).orElseThrow()).isGreaterThanOrEqualTo(d);
    }
  }
}
