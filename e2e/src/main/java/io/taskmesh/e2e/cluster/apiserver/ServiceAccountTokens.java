package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API server's token authority: the ServiceAccount tokens it has minted (TokenRequest) and what each was
 * minted for, so that a TokenReview can say who holds one. A token is a JWT with the claims Kubernetes puts
 * in one (a workload may read its own {@code sub}), signed RS256 with a key of this API server; reviews look
 * the token up rather than check the signature, which comes to the same for tokens only this server mints.
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

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Grant> grants = new ConcurrentHashMap<>();
  private final Clock clock;
  private final KeyPair signingKey;
  private final String keyId;

  ServiceAccountTokens(Clock clock) {
    this.clock = clock;
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048, random);
      this.signingKey = generator.generateKeyPair();
      this.keyId = BASE64URL.encodeToString(MessageDigest.getInstance("SHA-256")
          .digest(signingKey.getPublic().getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make the ServiceAccount token signing key", e);
    }
  }

  Instant now() {
    return clock.instant();
  }

  String mint(Grant grant) {
    grants.values().removeIf(this::expired);
    long now = clock.instant().getEpochSecond();
    ObjectNode header = JSON.createObjectNode().put("alg", "RS256").put("kid", keyId);
    ObjectNode claims = JSON.createObjectNode();
    grant.audiences().forEach(claims.putArray("aud")::add);
    claims.put("exp", grant.expires().getEpochSecond()).put("iat", now).put("nbf", now)
        .put("iss", API_AUDIENCE).put("jti", UUID.randomUUID().toString())
        .put("sub", "system:serviceaccount:" + grant.namespace() + ":" + grant.serviceAccount());
    ObjectNode kubernetes = claims.putObject("kubernetes.io").put("namespace", grant.namespace());
    if (grant.podName() != null) {
      kubernetes.putObject("pod").put("name", grant.podName()).put("uid", grant.podUid());
    }
    kubernetes.putObject("serviceaccount").put("name", grant.serviceAccount()).put("uid", grant.serviceAccountUid());
    String signed = part(header) + "." + part(claims);
    String token = signed + "." + BASE64URL.encodeToString(sign(signed));
    grants.put(token, grant);
    return token;
  }

  private static String part(ObjectNode json) {
    return BASE64URL.encodeToString(json.toString().getBytes(StandardCharsets.UTF_8));
  }

  private byte[] sign(String content) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(signingKey.getPrivate());
      signature.update(content.getBytes(StandardCharsets.US_ASCII));
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a ServiceAccount token", e);
    }
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
