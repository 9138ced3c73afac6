package io.taskmesh.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServingCertificateTest {
  private static final List<String> NAMES = List.of("taskmesh-operator.taskmesh-system.svc", "taskmesh-operator");

  @Test
  void aSelfSignedCertificateIsSignedByItsOwnCaForServerUseUnderEveryName() throws Exception {
    ServingCertificate made = ServingCertificate.selfSigned(NAMES, Duration.ofDays(365), Clock.systemUTC());
    X509Certificate ca = made.ca();
    X509Certificate server = made.certificate();

    ca.verify(ca.getPublicKey());
    server.verify(ca.getPublicKey());
    assertThat(ca.getBasicConstraints()).as("CA").isGreaterThanOrEqualTo(0);
    assertThat(server.getBasicConstraints()).as("not a CA").isEqualTo(-1);
    assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(server.getSubjectAlternativeNames().stream().map(san -> (Object) san.get(1)).toList())
        .containsExactly(NAMES.toArray());
    assertThat(server.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
    assertThat(made.serves(NAMES, Instant.now(), Duration.ofDays(300))).isTrue();
    assertThat(made.serves(NAMES, Instant.now(), Duration.ofDays(366))).as("expired by then").isFalse();
    assertThat(made.serves(List.of("other.taskmesh-system.svc"), Instant.now(), Duration.ZERO)).isFalse();
  }

  @Test
  void itsKeyStoreHoldsTheKeyUnderOneAlias() throws Exception {
    ServingCertificate made = ServingCertificate.selfSigned(NAMES, Duration.ofDays(1), Clock.systemUTC());

    var store = made.keyStore("pw".toCharArray());

    assertThat(store.getKey(ServingCertificate.KEY_ALIAS, "pw".toCharArray())).isNotNull();
    assertThat(made.toString()).doesNotContain("PRIVATE KEY");
  }

  @Test
  void aKeyThatIsNotPemIsRefusedNamingTlsKey() {
    ServingCertificate made = ServingCertificate.selfSigned(NAMES, Duration.ofDays(1), Clock.systemUTC());
    ServingCertificate broken = new ServingCertificate(made.caPem(), made.certPem(), "not a key");

    assertThatThrownBy(() -> broken.keyStore("pw".toCharArray())).hasMessageStartingWith("tls.key:");
  }
}
