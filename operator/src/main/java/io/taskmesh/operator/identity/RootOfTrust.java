package io.taskmesh.operator.identity;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * What the issuer's intermediates are signed with, and what peers are told to trust.
 *
 * @param signer the CA that signs the operator's intermediates: the trust anchor itself when the operator
 *     made it, or a CA the user's PKI issued (cert-manager's tls.crt) under the anchor
 * @param anchors the trust bundle peers verify with (ca.crt); it may hold more than one while an anchor
 *     is replaced
 * @param chainToAnchor the certificates between {@code signer} and an anchor, {@code signer} first; empty
 *     when the signer is an anchor
 */
public record RootOfTrust(Authority signer, List<X509Certificate> anchors, List<X509Certificate> chainToAnchor) {
  public RootOfTrust {
    Objects.requireNonNull(signer, "signer");
    anchors = List.copyOf(anchors);
    chainToAnchor = List.copyOf(chainToAnchor);
    if (anchors.isEmpty()) {
      throw new IllegalArgumentException("a root of trust needs at least one trust anchor (ca.crt)");
    }
    if (signer.certificate().getBasicConstraints() < 0) {
      throw new IllegalArgumentException("the signing certificate " + signer.certificate().getSubjectX500Principal()
          + " is not a CA (basicConstraints cA=false)");
    }
  }

  /** A signer given with the anchors: the signer is an anchor, or its certificate is sent with each chain. */
  public static RootOfTrust of(Authority signer, List<X509Certificate> anchors) {
    return new RootOfTrust(signer, anchors,
        anchors.contains(signer.certificate()) ? List.of() : List.of(signer.certificate()));
  }
}
