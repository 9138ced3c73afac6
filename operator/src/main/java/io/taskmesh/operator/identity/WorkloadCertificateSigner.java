package io.taskmesh.operator.identity;

import io.taskmesh.identity.SpiffeId;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Signs a workload's CSR for the identity its token proved, and nothing else: the CSR must name exactly
 * that SPIFFE ID as its one subject alternative name, be signed by the key it carries, and carry an EC
 * key or an RSA key of at least 2048 bits. The leaf has no subject (the SPIFFE ID is its name), serves as
 * client and server, and ends no later than the intermediate that signs it.
 */
public final class WorkloadCertificateSigner {
  /** Leaves start a minute early, for clocks a little behind ours. */
  private static final Duration SKEW = Duration.ofMinutes(1);
  private final IssuingAuthority authority;

  public WorkloadCertificateSigner(IssuingAuthority authority) {
    this.authority = authority;
  }

  /**
   * @param lifetime what the workload asked for; {@link Duration#ZERO} means the issuer's default (24 h),
   *     and more than the authority's maximum is cut to it
   * @return the leaf first, then the chain to (not including) the trust anchor
   */
  public List<X509Certificate> sign(byte[] csrDer, SpiffeId proven, Duration lifetime) throws RefusedCsr {
    JcaPKCS10CertificationRequest csr = read(csrDer);
    PublicKey key = checkedKey(csr);
    checkSignature(csr, key);
    String asked = requestedUri(csr);
    if (!proven.uri().equals(asked)) {
      throw new RefusedCsr(RefusedCsr.Reason.WRONG_IDENTITY, "the token proves " + proven + ", the CSR asks for "
          + asked);
    }
    IssuingAuthority.Issuing issuing = authority.current();
    Instant now = authority.clock().instant();
    Instant from = now.truncatedTo(ChronoUnit.SECONDS).minus(SKEW);
    Duration granted = lifetime.isZero() || lifetime.isNegative() ? defaultLifetime()
        : (lifetime.compareTo(authority.maxLeafLifetime()) > 0 ? authority.maxLeafLifetime() : lifetime);
    Instant until = now.plus(granted);
    Instant intermediateEnds = issuing.intermediate().certificate().getNotAfter().toInstant();
    X509Certificate leaf = Certificates.endEntity(issuing.intermediate(), new X500Name(new RDN[0]),
        key, new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, proven.uri())), from,
        until.isAfter(intermediateEnds) ? intermediateEnds : until,
        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(leaf);
    chain.addAll(issuing.chain());
    return chain;
  }

  /** 24 hours, or the maximum if that is shorter. */
  public Duration defaultLifetime() {
    Duration day = Duration.ofHours(24);
    return day.compareTo(authority.maxLeafLifetime()) > 0 ? authority.maxLeafLifetime() : day;
  }

  private static JcaPKCS10CertificationRequest read(byte[] der) throws RefusedCsr {
    try {
      return new JcaPKCS10CertificationRequest(der);
    } catch (IOException | RuntimeException e) {
      throw new RefusedCsr(RefusedCsr.Reason.MALFORMED, "not a DER PKCS#10 certification request: " + e.getMessage());
    }
  }

  private static void checkSignature(JcaPKCS10CertificationRequest csr, PublicKey key) throws RefusedCsr {
    boolean valid;
    try {
      valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key));
    } catch (OperatorCreationException | PKCSException | RuntimeException e) {
      throw new RefusedCsr(RefusedCsr.Reason.MALFORMED, "the CSR's signature cannot be checked: " + e.getMessage());
    }
    if (!valid) {
      throw new RefusedCsr(RefusedCsr.Reason.MALFORMED, "the CSR's signature does not match its public key");
    }
  }

  private static PublicKey checkedKey(JcaPKCS10CertificationRequest csr) throws RefusedCsr {
    PublicKey key;
    try {
      key = csr.getPublicKey();
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new RefusedCsr(RefusedCsr.Reason.MALFORMED, "the CSR's public key cannot be read: " + e.getMessage());
    }
    boolean strong = key instanceof ECPublicKey
        || (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() >= 2048);
    if (!strong) {
      throw new RefusedCsr(RefusedCsr.Reason.MALFORMED, "the CSR's key must be EC or RSA of 2048 bits or more, got "
          + key.getAlgorithm());
    }
    return key;
  }

  private static String requestedUri(JcaPKCS10CertificationRequest csr) throws RefusedCsr {
    List<GeneralName> names = new ArrayList<>();
    for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
      for (ASN1Encodable value : attribute.getAttrValues()) {
        GeneralNames sans = GeneralNames.fromExtensions(Extensions.getInstance(value), Extension.subjectAlternativeName);
        if (sans != null) {
          names.addAll(List.of(sans.getNames()));
        }
      }
    }
    if (names.size() != 1 || names.get(0).getTagNo() != GeneralName.uniformResourceIdentifier) {
      throw new RefusedCsr(RefusedCsr.Reason.WRONG_IDENTITY, "the CSR must ask for exactly one URI subject alternative"
          + " name (the SPIFFE ID), it asks for " + names.stream().map(GeneralName::toString).toList());
    }
    return names.get(0).getName().toString();
  }
}
