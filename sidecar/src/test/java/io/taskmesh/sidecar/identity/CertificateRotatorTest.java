package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.taskmesh.identity.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CertificateRotatorTest {
  private static final SpiffeId BILLING = new SpiffeId("mesh.test", "shop", "billing");
  private final TestAuthority authority = new TestAuthority("mesh-root");

  @Test
  void aCertificateIsRenewedAtTwoThirdsOfItsLife() throws Exception {
    List<WorkloadCertificate> used = new CopyOnWriteArrayList<>();
    // 6 s certificates from one second ago: the next is due 3 s after the first arrives
    try (CertificateRotator rotator = new CertificateRotator(() -> authority.certificate(BILLING, Duration.ofSeconds(6)),
        used::add, Clock.systemUTC())) {
      WorkloadCertificate first = rotator.start().get(20, TimeUnit.SECONDS);
      assertThat(first.renewAt(first.notBefore())).isEqualTo(first.notBefore().plusSeconds(4));
      Instant arrived = first.notBefore().plusSeconds(3);  // as if notBefore were backdated by 3 s
      assertThat(first.renewAt(arrived)).isEqualTo(arrived.plusSeconds(2));

      await().atMost(Duration.ofSeconds(30)).until(() -> used.size() >= 2);

      WorkloadCertificate second = used.get(1);
      assertThat(second.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
      assertThat(second.notBefore()).as("asked for before the first expired").isBefore(first.notAfter());
      assertThat(rotator.current()).containsSame(used.get(used.size() - 1));
    }
  }

  @Test
  void aFailingIssuerIsAskedAgainUntilItAnswers() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    CertificateRotator.Source flaky = () -> {
      if (attempts.incrementAndGet() < 3) {
        throw new java.io.IOException("issuer unreachable");
      }
      return authority.certificate(BILLING, Duration.ofHours(1));
    };
    try (CertificateRotator rotator = new CertificateRotator(flaky, certificate -> { }, Clock.systemUTC())) {
      WorkloadCertificate first = rotator.start().get(30, TimeUnit.SECONDS);

      assertThat(attempts).hasValue(3);  // retried after 1 s and 2 s
      assertThat(first.id()).isEqualTo(BILLING);
    }
  }
}
