package io.taskmesh.sidecar.identity;

import io.taskmesh.identity.SpiffeId;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The proxy's certificate as the issuer gave it: the key made in this process (never written anywhere),
 * the chain to present (leaf first) and the trust anchors to check peers against.
 */
public record WorkloadCertificate(SpiffeId id, PrivateKey key, List<X509Certificate> chain,
    List<X509Certificate> trustAnchors) {

  public WorkloadCertificate {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(key, "key");
    chain = List.copyOf(chain);
    trustAnchors = List.copyOf(trustAnchors);
    if (chain.isEmpty() || trustAnchors.isEmpty()) {
      throw new IllegalArgumentException("a workload certificate needs a chain and at least one trust anchor");
    }
  }

  /** The same certificate and key, checking peers against {@code anchors} instead. */
  public WorkloadCertificate trusting(List<X509Certificate> anchors) {
    return new WorkloadCertificate(id, key, chain, anchors);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notBefore() {
    return leaf().getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  /**
   * When to ask for the next one: two-thirds into this one's life as received, leaving a third for retries.
   * The life counts from {@code received} when the issuer backdated {@code notBefore} (for clock skew): counted
   * from notBefore, a certificate shorter than the backdating would be due at once, again and again.
   */
  public Instant renewAt(Instant received) {
    Instant from = notBefore().isAfter(received) ? notBefore() : received;
    Duration life = Duration.between(from, notAfter());
    return from.plus(life.multipliedBy(2).dividedBy(3));
  }

  @Override
  public String toString() {
    return "WorkloadCertificate[" + id + ", serial " + leaf().getSerialNumber().toString(16) + ", until "
        + notAfter() + ", key hidden]";
  }
}
