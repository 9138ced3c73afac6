package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.client.internal.CertUtils;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * The webhook's serving certificate as PEM: the CA that the MutatingWebhookConfiguration's caBundle trusts,
 * the serving certificate and its private key. Either made here ({@link #selfSigned}: a fresh ECDSA P-256 CA
 * signs a certificate for the Service's DNS names) or read from a Secret (tls.crt, tls.key, ca.crt).
 */
public record ServingCertificate(String caPem, String certPem, String keyPem) {
  static final String CA_NAME = "taskmesh-webhook-ca";
  /** One alias whatever the source, so a swapped key store answers for the alias chosen before the swap. */
  static final String KEY_ALIAS = "webhook";
  private static final String ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
  private static final String COMMON_NAME = "2.5.4.3";
  private static final String BASIC_CONSTRAINTS = "2.5.29.19";
  private static final String KEY_USAGE = "2.5.29.15";
  private static final String EXTENDED_KEY_USAGE = "2.5.29.37";
  private static final String SUBJECT_ALT_NAME = "2.5.29.17";
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final int SAN_DNS_NAME = 2;

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
    try {
      KeyPair ca = newKeyPair();
      KeyPair server = newKeyPair();
      ZonedDateTime from = ZonedDateTime.now(clock).withZoneSameInstant(ZoneOffset.UTC).minusMinutes(1).withNano(0);
      ZonedDateTime until = from.plus(validity);
      byte[] caName = name(CA_NAME);
      byte[] caCert = sign(ca, caName, caName, ca.getPublic().getEncoded(), from, until, Der.concat(
          extension(BASIC_CONSTRAINTS, true, Der.sequence(Der.bool(true))),
          extension(KEY_USAGE, true, Der.bitString(1, new byte[] {0x06}))));            // keyCertSign, cRLSign
      byte[][] sans = dnsNames.stream()
          .map(dns -> Der.contextTag(SAN_DNS_NAME, false, dns.getBytes(StandardCharsets.US_ASCII)))
          .toArray(byte[][]::new);
      byte[] serverCert = sign(ca, caName, name(dnsNames.get(0)), server.getPublic().getEncoded(), from, until,
          Der.concat(
              extension(BASIC_CONSTRAINTS, true, Der.sequence()),
              extension(KEY_USAGE, true, Der.bitString(7, new byte[] {(byte) 0x80})),  // digitalSignature
              extension(EXTENDED_KEY_USAGE, false, Der.sequence(Der.oid(SERVER_AUTH))),
              extension(SUBJECT_ALT_NAME, false, Der.sequence(sans))));
      return new ServingCertificate(pem("CERTIFICATE", caCert), pem("CERTIFICATE", serverCert),
          pem("PRIVATE KEY", server.getPrivate().getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make the webhook's self-signed certificate", e);
    }
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
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> alternatives = cert.getSubjectAlternativeNames();
      if (alternatives != null) {
        alternatives.stream().filter(san -> Integer.valueOf(SAN_DNS_NAME).equals(san.get(0)))
            .forEach(san -> names.add((String) san.get(1)));
      }
    } catch (CertificateParsingException e) {
      return false;
    }
    return names.containsAll(dnsNames) && cert.getNotAfter().toInstant().isAfter(at.plus(margin));
  }

  /** A key store holding the private key and the certificate chain, for the HTTPS server. */
  public KeyStore keyStore(char[] password) {
    try {
      PrivateKey key;
      if (keyPem.contains("BEGIN PRIVATE KEY")) {
        key = pkcs8(keyPem);
      } else {
        // PKCS#1 ("BEGIN RSA PRIVATE KEY", what cert-manager writes for RSA keys): fabric8 can read it
        KeyStore pkcs1 = CertUtils.createKeyStore(stream(certPem), stream(keyPem), "RSA", password, null, password);
        key = (PrivateKey) pkcs1.getKey(pkcs1.aliases().nextElement(), password);
      }
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(KEY_ALIAS, key, password, new X509Certificate[] {certificate()});
      return store;
    } catch (Exception e) {
      throw new IllegalArgumentException("tls.key: cannot read the private key (PKCS#8 RSA/EC or PKCS#1 RSA PEM): "
          + e.getMessage(), e);
    }
  }

  /** The PEM the API server is told to trust, base64-encoded as caBundle is. */
  public String caBundle() {
    return Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static byte[] sign(KeyPair issuerKey, byte[] issuer, byte[] subject, byte[] subjectPublicKeyInfo,
      ZonedDateTime from, ZonedDateTime until, byte[] extensions) throws GeneralSecurityException {
    byte[] algorithm = Der.sequence(Der.oid(ECDSA_WITH_SHA256));
    byte[] tbs = Der.sequence(
        Der.contextTag(0, true, Der.integer(BigInteger.TWO)),                 // version 3
        Der.integer(new BigInteger(127, new SecureRandom()).add(BigInteger.ONE)),
        algorithm,
        issuer,
        Der.sequence(Der.time(from), Der.time(until)),
        subject,
        subjectPublicKeyInfo,
        Der.contextTag(3, true, Der.sequence(extensions)));
    Signature signature = Signature.getInstance("SHA256withECDSA");
    signature.initSign(issuerKey.getPrivate());
    signature.update(tbs);
    return Der.sequence(tbs, algorithm, Der.bitString(0, signature.sign()));
  }

  private static byte[] name(String commonName) {
    return Der.sequence(Der.set(Der.sequence(Der.oid(COMMON_NAME), Der.utf8String(commonName))));
  }

  private static byte[] extension(String oid, boolean critical, byte[] value) {
    return critical
        ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
        : Der.sequence(Der.oid(oid), Der.octetString(value));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static X509Certificate parse(String pem, String what) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(stream(pem));
    } catch (CertificateException | RuntimeException e) {
      throw new IllegalArgumentException(what + ": not a PEM X.509 certificate: " + e.getMessage(), e);
    }
  }

  private static PrivateKey pkcs8(String pem) throws GeneralSecurityException {
    String base64 = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64));
    try {
      return KeyFactory.getInstance("EC").generatePrivate(spec);
    } catch (GeneralSecurityException notEc) {
      return KeyFactory.getInstance("RSA").generatePrivate(spec);
    }
  }

  private static ByteArrayInputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  @Override
  public String toString() {
    return "ServingCertificate[" + certificate().getSubjectX500Principal() + ", key hidden]";
  }
}
