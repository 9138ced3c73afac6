package io.taskmesh.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
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
  void keysAsCertManagerWritesThemAreRead() throws Exception {
    ServingCertificate made = ServingCertificate.selfSigned(NAMES, Duration.ofDays(1), Clock.systemUTC());
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    // BouncyCastle's EC keys carry their curve inside SEC1, as openssl's (and cert-manager's) do
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
    ec.initialize(new ECGenParameterSpec("secp256r1"));

    for (KeyPair pair : List.of(rsa.generateKeyPair(), ec.generateKeyPair())) {
      StringWriter pem = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(pem)) {
        writer.writeObject(pair.getPrivate());  // PKCS#1 for RSA, SEC1 for EC: what cert-manager writes by default
      }
      assertThat(pem.toString()).doesNotContain("BEGIN PRIVATE KEY");
      ServingCertificate withKey = new ServingCertificate(made.caPem(), made.certPem(), pem.toString());

      PrivateKey read = (PrivateKey) withKey.keyStore("pw".toCharArray())
          .getKey(ServingCertificate.KEY_ALIAS, "pw".toCharArray());

      String algorithm = read.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(read);
      signer.update(new byte[] {1, 2, 3});
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(pair.getPublic());
      verifier.update(new byte[] {1, 2, 3});
      assertThat(verifier.verify(signer.sign())).as("the key read is the key written (%s)", algorithm).isTrue();
    }
  }

  @Test
  void aKeyThatIsNotPemIsRefusedNamingTlsKey() {
    ServingCertificate made = ServingCertificate.selfSigned(NAMES, Duration.ofDays(1), Clock.systemUTC());
    ServingCertificate broken = new ServingCertificate(made.caPem(), made.certPem(), "not a key");

    assertThatThrownBy(() -> broken.keyStore("pw".toCharArray())).hasMessageStartingWith("tls.key:");
  }
}
