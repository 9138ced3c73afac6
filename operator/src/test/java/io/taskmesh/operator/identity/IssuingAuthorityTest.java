package io.taskmesh.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IssuingAuthorityTest {
  private static final Duration DAY = Duration.ofHours(24);

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    private Instant now = Instant.now();

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  @Test
  void theIntermediateIsKeptWhileItCoversTwoLeafLifetimesAndReplacedAfter() {
    MovableClock clock = new MovableClock();
    IssuingAuthority authority = new IssuingAuthority(root(clock.instant(), Duration.ofDays(365)), DAY, clock);
    X509Certificate first = authority.current().intermediate().certificate();

    clock.advance(Duration.ofHours(47));
    assertThat(authority.current().intermediate().certificate()).as("4 days of life, 2 left").isSameAs(first);
    clock.advance(Duration.ofHours(2));
    X509Certificate second = authority.current().intermediate().certificate();

    assertThat(second).isNotEqualTo(first);
    assertThat(Duration.between(second.getNotBefore().toInstant(), second.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofDays(4));
  }

  @Test
  void aSigningCaAboutToExpireIsReportedInsteadOfSigningShortIntermediates() {
    Instant now = Instant.now();
    IssuingAuthority authority = new IssuingAuthority(root(now, Duration.ofHours(12)), DAY,
        Clock.fixed(now, ZoneOffset.UTC));

    assertThatThrownBy(authority::current).hasMessageContaining("too soon");
  }

  @Test
  void theIssuersSettingsAreReadFromTheEnvironmentWithErrorsNamingTheVariable() {
    IdentitySettings defaults = IdentitySettings.fromEnvironment(Map.of("TASKMESH_NAMESPACE", "mesh"));

    assertThat(defaults.enabled()).isFalse();
    assertThat(defaults.port()).isEqualTo(15012);
    assertThat(defaults.anchorSecret()).isEqualTo("taskmesh-operator-trust-anchor");
    assertThat(defaults.servingNames()).contains("taskmesh-operator.mesh.svc");
    assertThat(defaults.maxCertLifetime()).isEqualTo(DAY);
    assertThatThrownBy(() -> IdentitySettings.fromEnvironment(Map.of("TASKMESH_ISSUER_PORT", "x")))
        .hasMessageStartingWith("TASKMESH_ISSUER_PORT");
    assertThatThrownBy(() -> IdentitySettings.fromEnvironment(Map.of("TASKMESH_MAX_CERT_LIFETIME", "1m")))
        .hasMessageStartingWith("TASKMESH_MAX_CERT_LIFETIME");
    assertThatThrownBy(() -> IdentitySettings.fromEnvironment(Map.of("TASKMESH_TRUST_DOMAIN", "Not A Domain")))
        .hasMessageContaining("trust domain");
  }

  private static RootOfTrust root(Instant now, Duration validity) {
    KeyPair key = Certificates.newKeyPair();
    X509Certificate anchor = Certificates.selfSignedCa(key, "root", now.minusSeconds(60), now.plus(validity));
    return RootOfTrust.of(new Authority(anchor, key.getPrivate()), List.of(anchor));
  }
}
