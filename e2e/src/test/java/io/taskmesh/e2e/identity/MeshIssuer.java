package io.taskmesh.e2e.identity;

import io.taskmesh.operator.identity.Authority;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.IdentitySettings;
import io.taskmesh.operator.identity.IssuerServer;
import io.taskmesh.operator.identity.Pem;
import io.taskmesh.operator.identity.RootOfTrust;
import io.taskmesh.operator.identity.TokenReviewer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's real issuer on 127.0.0.1 under a fresh root, with the trust bundle written where sidecars read
 * it. The token review is the one stand-in: a token this fixture handed out proves the ServiceAccount it was
 * made for, any other token nothing (the operator's own tests run the review against the mock API server).
 */
final class MeshIssuer implements AutoCloseable {
  static final String TRUST_DOMAIN = "mesh.test";
  private final Map<String, TokenReviewer.ServiceAccount> tokens = new ConcurrentHashMap<>();
  private final Path dir;
  private final Path bundle;
  private final IssuerServer server;

  MeshIssuer(Path dir) throws IOException {
    this.dir = dir;
    RootOfTrust root = root();
    this.bundle = Files.writeString(dir.resolve("ca.crt"), Pem.certificates(root.anchors()));
    IdentitySettings settings = new IdentitySettings(true, TRUST_DOMAIN, "127.0.0.1", 0, "taskmesh-system",
        "taskmesh-operator", "taskmesh-operator", "unused", true, Duration.ofHours(24));
    TokenReviewer reviewer = token -> {
      TokenReviewer.ServiceAccount account = tokens.get(token);
      if (account == null) {
        throw new TokenReviewer.InvalidToken("unknown token");
      }
      return account;
    };
    this.server = IssuerServer.start(reviewer, root, settings, Clock.systemUTC());
  }

  int port() {
    return server.port();
  }

  Path bundle() {
    return bundle;
  }

  /** A projected-token file for {@code namespace/serviceAccount}, which the issuer's review accepts. */
  Path tokenFile(String namespace, String serviceAccount) throws IOException {
    String token = token(namespace, serviceAccount);
    tokens.put(token, new TokenReviewer.ServiceAccount(namespace, serviceAccount));
    return Files.writeString(dir.resolve(namespace + "-" + serviceAccount + ".token"), token);
  }

  /** A JWT-shaped token whose subject names the ServiceAccount, as the kubelet's projected tokens do. */
  static String token(String namespace, String serviceAccount) {
    String claims = "{\"sub\":\"system:serviceaccount:" + namespace + ":" + serviceAccount + "\",\"aud\":[\"taskmesh\"]}";
    Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
    return base64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + base64.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + ".signature";
  }

  private static RootOfTrust root() {
    KeyPair key = Certificates.newKeyPair();
    Instant now = Instant.now();
    X509Certificate anchor = Certificates.selfSignedCa(key, "e2e-root", now.minusSeconds(60), now.plus(Duration.ofDays(30)));
    return RootOfTrust.of(new Authority(anchor, key.getPrivate()), List.of(anchor));
  }

  @Override
  public void close() {
    server.close();
  }
}
