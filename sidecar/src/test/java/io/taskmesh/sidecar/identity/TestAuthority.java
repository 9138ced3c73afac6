package io.taskmesh.sidecar.identity;

import io.taskmesh.identity.SpiffeId;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A root and an intermediate standing in for the operator's issuer (which lives in another module), making
 * the same kind of chains: leaf with one SPIFFE URI, intermediate, anchor apart.
 */
public final class TestAuthority {
  private final AtomicLong serials = new AtomicLong(System.nanoTime());
  private final KeyPair rootKey = newKey();
  private final KeyPair intermediateKey = newKey();
  private final X509Certificate root;
  private final X509Certificate intermediate;

  public TestAuthority(String name) {
    Instant now = Instant.now();
    root = sign(rootKey.getPrivate(), new X500Name("CN=" + name), new X500Name("CN=" + name), rootKey.getPublic(),
        now.minusSeconds(60), now.plus(Duration.ofDays(30)), new BasicConstraints(true), null, null);
    intermediate = sign(rootKey.getPrivate(), new X500Name("CN=" + name), new X500Name("CN=" + name + "-issuer"),
        intermediateKey.getPublic(), now.minusSeconds(60), now.plus(Duration.ofDays(10)), new BasicConstraints(0),
        null, null);
  }

  public static KeyPair newKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public List<X509Certificate> anchors() {
    return List.of(root);
  }

  /** A workload certificate for {@code id}, valid from {@code from} for {@code lifetime}. */
  public WorkloadCertificate certificate(SpiffeId id, Instant from, Duration lifetime) {
    KeyPair key = newKey();
    return new WorkloadCertificate(id, key.getPrivate(), leafChain(key.getPublic(), id.uri(), from, lifetime), anchors());
  }

  public WorkloadCertificate certificate(SpiffeId id, Duration lifetime) {
    return certificate(id, Instant.now().minusSeconds(1), lifetime);
  }

  List<X509Certificate> leafChain(PublicKey key, String uri, Instant from, Duration lifetime) {
    X509Certificate leaf = sign(intermediateKey.getPrivate(), null, new X500Name(""), key,
        from, from.plus(lifetime), new BasicConstraints(false),
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)),
        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth});
    return List.of(leaf, intermediate);
  }

  /** A TLS server certificate for {@code dnsName}: for the issuer itself, or the gateway's edge. */
  public WorkloadCertificate serverCertificate(String dnsName) {
    KeyPair key = newKey();
    Instant now = Instant.now();
    X509Certificate leaf = sign(intermediateKey.getPrivate(), null, new X500Name("CN=" + dnsName), key.getPublic(),
        now.minusSeconds(60), now.plus(Duration.ofDays(1)), new BasicConstraints(false),
        new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)), new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth});
    return new WorkloadCertificate(new SpiffeId("unused", "issuer", "issuer"), key.getPrivate(),
        List.of(leaf, intermediate), anchors());
  }

  private X509Certificate sign(PrivateKey signer, X500Name issuerOverride, X500Name subject, PublicKey key,
      Instant from, Instant until, BasicConstraints constraints, GeneralNames names, KeyPurposeId[] purposes) {
    try {
      X500Name issuerName = intermediate != null && signer == intermediateKey.getPrivate()
          ? X500Name.getInstance(intermediate.getSubjectX500Principal().getEncoded())
          : issuerOverride;
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
          BigInteger.valueOf(serials.incrementAndGet()), Date.from(from), Date.from(until), subject, key);
      builder.addExtension(Extension.basicConstraints, true, constraints);
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(constraints.isCA()
          ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
      if (names != null) {
        builder.addExtension(Extension.subjectAlternativeName, subject.getRDNs().length == 0, names);
      }
      if (purposes != null) {
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
