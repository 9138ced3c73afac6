package io.taskmesh.operator.webhook;

import io.taskmesh.identity.SubjectAltNames;
import io.taskmesh.operator.identity.Authority;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;

/**
 * The webhook's serving certificate as PEM: the CA that the MutatingWebhookConfiguration's caBundle trusts,
 * the serving certificate and its private key. Either made here ({@link #selfSigned}: a fresh ECDSA P-256 CA
 * signs a certificate for the Service's DNS names) or read from a Secret (tls.crt, tls.key, ca.crt).
 */
public record ServingCertificate(String caPem, String certPem, String keyPem) {
  static final String CA_NAME = "taskmesh-webhook-ca";
  /** One alias whatever the source, so a swapped key store answers for the alias chosen before the swap. */
  static final String KEY_ALIAS = "webhook";

  public ServingCertificate {
    if (caPem == null || certPem == null || keyPem == null) {
      throw new IllegalArgumentException("a serving certificate needs ca.crt, tls.crt and tls.key");
    }
  }

  /**
   * A new CA and a certificate it signs for {@code dnsNames} (the first is also the subject's CN), both
   * valid from one minute ago (clock skew) for {@code validity}.
   */
  public static ServingCertificate selfSigned(List<String> dnsNames, Duration validity, Clock clock) {
    if (dnsNames.isEmpty()) {
      throw new IllegalArgumentException("a serving certificate needs at least one DNS name");
    }
    KeyPair caKey = Certificates.newKeyPair();
    KeyPair serverKey = Certificates.newKeyPair();
    Instant from = clock.instant().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofMinutes(1));
    Instant until = from.plus(validity);
    Authority ca = new Authority(Certificates.selfSignedCa(caKey, CA_NAME, from, until), caKey.getPrivate());
    GeneralNames names = new GeneralNames(dnsNames.stream()
        .map(dns -> new GeneralName(GeneralName.dNSName, dns)).toArray(GeneralName[]::new));
    X509Certificate server = Certificates.endEntity(ca, Certificates.commonName(dnsNames.get(0)),
        serverKey.getPublic(), names, from, until, KeyPurposeId.id_kp_serverAuth);
    return new ServingCertificate(Pem.certificates(List.of(ca.certificate())), Pem.certificates(List.of(server)),
        Pem.privateKey(serverKey.getPrivate()));
  }

  public X509Certificate certificate() {
    return parse(certPem, "tls.crt");
  }

  public X509Certificate ca() {
    return parse(caPem, "ca.crt");
  }

  /** Whether this certificate names every one of {@code dnsNames} and is still valid at {@code at + margin}. */
  public boolean serves(List<String> dnsNames, Instant at, Duration margin) {
    X509Certificate cert = certificate();
    List<String> names;
    try {
      names = SubjectAltNames.of(cert, SubjectAltNames.DNS);
    } catch (CertificateParsingException e) {
      return false;
    }
    return names.containsAll(dnsNames) && cert.getNotAfter().toInstant().isAfter(at.plus(margin));
  }

  /** A key store holding the private key and the certificate chain, for the HTTPS server. */
  public KeyStore keyStore(char[] password) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(KEY_ALIAS, Pem.readPrivateKey(keyPem, "tls.key"), password,
          new X509Certificate[] {certificate()});
      return store;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("a PKCS#12 key store in memory cannot fail to hold a key", e);
    }
  }

  /** The PEM the API server is told to trust, base64-encoded as caBundle is. */
  public String caBundle() {
    return Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
  }

  private static X509Certificate parse(String pem, String what) {
    return Pem.readCertificates(pem, what).get(0);
  }

  @Override
  public String toString() {
    return "ServingCertificate[" + certificate().getSubjectX500Principal() + ", key hidden]";
  }
}
