package io.taskmesh.identity;

import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides whether a peer's certificate chain proves a workload identity of our trust domain: the chain
 * must lead to one of the trust anchors (PKIX, at the clock's time), the leaf must not be a CA, and its
 * only URI subject alternative name must be a SPIFFE ID in our trust domain. Host names play no part:
 * in the mesh a peer is who its certificate says, not where it is.
 */
public final class PeerVerifier {
  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> anchorCertificates;
  private final String trustDomain;
  private final Clock clock;

  public PeerVerifier(List<X509Certificate> trustAnchors, String trustDomain, Clock clock) {
    if (trustAnchors.isEmpty()) {
      throw new IllegalArgumentException("a peer verifier needs at least one trust anchor");
    }
    SpiffeId.checkTrustDomain(trustDomain);
    this.anchorCertificates = List.copyOf(trustAnchors);
    this.anchors = trustAnchors.stream().map(anchor -> new TrustAnchor(anchor, null)).collect(Collectors.toSet());
    this.trustDomain = trustDomain;
    this.clock = clock;
  }

  public List<X509Certificate> trustAnchors() {
    return anchorCertificates;
  }

  public String trustDomain() {
    return trustDomain;
  }

  /**
   * @param chain the peer's certificates, leaf first (the anchor itself may end it, as some peers send it)
   * @return the identity the chain proves
   * @throws CertificateException naming why the chain proves nothing
   */
  public SpiffeId verify(List<X509Certificate> chain) throws CertificateException {
    if (chain.isEmpty()) {
      throw new CertificateException("the peer sent no certificate");
    }
    X509Certificate leaf = chain.get(0);
    if (leaf.getBasicConstraints() >= 0) {
      throw new CertificateException("the peer's leaf certificate is a CA, not a workload");
    }
    validatePath(withoutAnchor(chain));
    SpiffeId id = spiffeId(leaf);
    if (!id.trustDomain().equals(trustDomain)) {
      throw new CertificateException("the peer " + id + " is in trust domain '" + id.trustDomain() + "', not '"
          + trustDomain + "'");
    }
    return id;
  }

  /** The SPIFFE ID a certificate names, whatever its trust domain. */
  public static SpiffeId spiffeId(X509Certificate leaf) throws CertificateException {
    List<String> uris;
    try {
      uris = SubjectAltNames.of(leaf, SubjectAltNames.URI);
    } catch (CertificateParsingException e) {
      throw new CertificateException("the peer's subject alternative names cannot be read: " + e.getMessage(), e);
    }
    if (uris.size() != 1) {
      throw new CertificateException("the peer's certificate must name exactly one URI (its SPIFFE ID), it names "
          + uris);
    }
    try {
      return SpiffeId.parse(uris.get(0));
    } catch (IllegalArgumentException e) {
      throw new CertificateException(e.getMessage(), e);
    }
  }

  private List<X509Certificate> withoutAnchor(List<X509Certificate> chain) {
    List<X509Certificate> path = new ArrayList<>(chain);
    while (path.size() > 1 && anchorCertificates.contains(path.get(path.size() - 1))) {
      path.remove(path.size() - 1);
    }
    return path;
  }

  private void validatePath(List<X509Certificate> path) throws CertificateException {
    try {
      PKIXParameters parameters = new PKIXParameters(anchors);
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(clock.instant()));
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
    } catch (CertPathValidatorException e) {
      throw new CertificateException(describe(e), e);
    } catch (InvalidAlgorithmParameterException e) {
      throw new IllegalStateException("trust anchors were checked when this verifier was made", e);
    } catch (GeneralSecurityException e) {
      throw new CertificateException("the peer's chain cannot be checked: " + e.getMessage(), e);
    }
  }

  private static String describe(CertPathValidatorException e) {
    if (e.getReason() == BasicReason.EXPIRED) {
      return "the peer's certificate chain has expired: " + e.getMessage();
    }
    if (e.getReason() == BasicReason.NOT_YET_VALID) {
      return "the peer's certificate chain is not yet valid: " + e.getMessage();
    }
    return "the peer's certificate does not chain to our trust anchor: " + e.getMessage();
  }
}
