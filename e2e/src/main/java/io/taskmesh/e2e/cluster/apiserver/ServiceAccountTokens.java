package io.taskmesh.e2e.cluster.apiserver;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API server's token authority: the ServiceAccount tokens it has minted (TokenRequest) and what each was
 * minted for, so that a TokenReview can say who holds one. Tokens are opaque random strings - a real API server
 * signs JWTs, but a reviewer must ask the API server either way and never read the token itself.
 */
final class ServiceAccountTokens {
  /** The audience a token is for when its request names none: the API server itself. */
  static final String API_AUDIENCE = "https://kubernetes.default.svc.cluster.local";

  /**
   * What one token was minted for.
   *
   * @param podName the pod it is bound to, or null when unbound
   * @param podUid that pod's uid, or null when the request named none
   */
  record Grant(String namespace, String serviceAccount, String serviceAccountUid, List<String> audiences,
      String podName, String podUid, Instant expires) {
    Grant {
      audiences = List.copyOf(audiences);
    }
  }

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Grant> grants = new ConcurrentHashMap<>();
  private final Clock clock;

  ServiceAccountTokens(Clock clock) {
    this.clock = clock;
  }

  Instant now() {
    return clock.instant();
  }

  String mint(Grant grant) {
    grants.values().removeIf(this::expired);
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    grants.put(token, grant);
    return token;
  }

  /** The grant of {@code token} while it has not expired. */
  Optional<Grant> grant(String token) {
    Grant grant = grants.get(token);
    return grant == null || expired(grant) ? Optional.empty() : Optional.of(grant);
  }

  private boolean expired(Grant grant) {
    return !clock.instant().isBefore(grant.expires());
  }
}
