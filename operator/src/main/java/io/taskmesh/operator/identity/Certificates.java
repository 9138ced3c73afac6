package io.taskmesh.operator.identity;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The three kinds of certificate the operator makes: a self-signed root, an intermediate CA under it, and
 * end-entity certificates (the webhook's, the issuer's, workloads'). Keys are ECDSA P-256; an issuer key
 * provided by the user may also be RSA.
 */
public final class Certificates {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Certificates() {}

  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has ECDSA P-256", e);
    }
  }

  public static X500Name commonName(String name) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
  }

  /** A root CA: signs itself, may sign CAs below it. */
  public static X509Certificate selfSignedCa(KeyPair key, String commonName, Instant from, Instant until) {
    X500Name name = commonName(commonName);
    return build(key.getPrivate(), null, name, name, key.getPublic(), from, until, builder -> {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    });
  }

  /** A CA under {@code issuer} that may sign end-entity certificates only (path length 0). */
  public static X509Certificate intermediateCa(Authority issuer, PublicKey key, String commonName, Instant from,
      Instant until) {
    return build(issuer.key(), issuer.certificate(), subjectOf(issuer), commonName(commonName), key, from, until,
        builder -> {
          builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
          builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        });
  }

  /**
   * An end-entity certificate. With an empty {@code subject} the alternative names are marked critical, as
   * RFC 5280 requires when they are the only name.
   */
  public static X509Certificate endEntity(Authority issuer, X500Name subject, PublicKey key, GeneralNames names,
      Instant from, Instant until, KeyPurposeId... purposes) {
    return build(issuer.key(), issuer.certificate(), subjectOf(issuer), subject, key, from, until, builder -> {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
      builder.addExtension(Extension.subjectAlternativeName, subject.getRDNs().length == 0, names);
    });
  }

  private interface Extensions {
    void addTo(X509v3CertificateBuilder builder) throws CertIOException;
  }

  private static X500Name subjectOf(Authority authority) {
    return X500Name.getInstance(authority.certificate().getSubjectX500Principal().getEncoded());
  }

  private static X509Certificate build(PrivateKey signingKey, X509Certificate issuerCertificate, X500Name issuer,
      X500Name subject, PublicKey key, Instant from, Instant until, Extensions extensions) {
    try {
      BigInteger serial = new BigInteger(127, RANDOM).add(BigInteger.ONE);
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial, Date.from(from),
          Date.from(until), subject, key);
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(key));
      if (issuerCertificate != null) {
        builder.addExtension(Extension.authorityKeyIdentifier, false,
            utils.createAuthorityKeyIdentifier(issuerCertificate));
      }
      extensions.addTo(builder);
      String algorithm = signingKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(signingKey)));
    } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a certificate for " + subject + ": " + e.getMessage(), e);
    }
  }
}
