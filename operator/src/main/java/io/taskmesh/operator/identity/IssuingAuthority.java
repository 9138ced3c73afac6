package io.taskmesh.operator.identity;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * This replica's intermediate CA under the root of trust. Its key lives only in this process's memory:
 * each replica makes its own at start and a new one before the current one could no longer cover the
 * longest leaf it may sign, so every leaf ends before the intermediate that signed it.
 */
public final class IssuingAuthority {
  /** Chains as sent to peers: the intermediate first, then whatever lies between it and the anchor. */
  public record Issuing(Authority intermediate, List<X509Certificate> chain) {
    public Issuing {
      chain = List.copyOf(chain);
    }
  }

  private final RootOfTrust root;
  private final Duration maxLeafLifetime;
  private final Duration validity;
  private final Clock clock;
  private Issuing current;

  /** @param maxLeafLifetime the longest a leaf signed here may live; the intermediate lives four times as long */
  public IssuingAuthority(RootOfTrust root, Duration maxLeafLifetime, Clock clock) {
    this.root = root;
    this.maxLeafLifetime = maxLeafLifetime;
    this.validity = maxLeafLifetime.multipliedBy(4);
    this.clock = clock;
  }

  public RootOfTrust root() {
    return root;
  }

  public Duration maxLeafLifetime() {
    return maxLeafLifetime;
  }

  public Clock clock() {
    return clock;
  }

  /** The intermediate to sign with now, a new one when the current has less than two leaf lifetimes left. */
  public synchronized Issuing current() {
    Instant now = clock.instant();
    if (current == null
        || current.intermediate().certificate().getNotAfter().toInstant().isBefore(now.plus(maxLeafLifetime.multipliedBy(2)))) {
      current = renew(now);
    }
    return current;
  }

  private Issuing renew(Instant now) {
    Instant from = now.truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofMinutes(1));
    Instant signerEnds = root.signer().certificate().getNotAfter().toInstant();
    Instant until = from.plus(validity).isAfter(signerEnds) ? signerEnds : from.plus(validity);
    if (!until.isAfter(now.plus(maxLeafLifetime))) {
      throw new IllegalStateException("the signing CA " + root.signer().certificate().getSubjectX500Principal()
          + " expires at " + signerEnds + ", too soon to sign an intermediate for leaves of " + maxLeafLifetime);
    }
    KeyPair key = Certificates.newKeyPair();
    X509Certificate intermediate = Certificates.intermediateCa(root.signer(), key.getPublic(),
        "taskmesh-issuer-" + Long.toHexString(now.getEpochSecond()), from, until);
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(intermediate);
    chain.addAll(root.chainToAnchor());
    return new Issuing(new Authority(intermediate, key.getPrivate()), chain);
  }
}
