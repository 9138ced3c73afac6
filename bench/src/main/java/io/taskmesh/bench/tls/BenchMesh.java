package io.taskmesh.bench.tls;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.discovery.DiscoveryLimits;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.identity.Authority;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.IdentitySettings;
import io.taskmesh.operator.identity.IssuerServer;
import io.taskmesh.operator.identity.Pem;
import io.taskmesh.operator.identity.RootOfTrust;
import io.taskmesh.operator.identity.TokenReviewer;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.sidecar.identity.IssuerClient;
import io.taskmesh.sidecar.identity.TokenFile;
import io.taskmesh.sidecar.identity.WorkloadCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The control plane of the bench's TLS paths, inside the bench's own process: the operator's real issuer under a
 * fresh root and its discovery server (mTLS, client certificates from that issuer), the trust bundle and
 * ServiceAccount tokens written where the sidecars read them. Sidecars get their certificates as in a pod (key
 * made in memory, CSR with the token); haproxy's come from the same issuer through the sidecar's own issuer
 * client, so both pairs present the same chain: an ECDSA P-256 leaf naming a SPIFFE ID, the issuer's
 * intermediate, one root. The token review is the one stand-in: a token this class wrote proves the
 * ServiceAccount it was written for.
 */
public final class BenchMesh implements AutoCloseable {
  public static final String TRUST_DOMAIN = "bench.test";
  public static final String NAMESPACE = "bench";
  private final Map<String, TokenReviewer.ServiceAccount> tokens = new ConcurrentHashMap<>();
  private final EndpointRegistry endpoints = new EndpointRegistry();
  private final Path dir;
  private final Path bundle;
  private final List<X509Certificate> anchors;
  private final IssuerServer issuer;
  private final DiscoveryServer discovery;

  private BenchMesh(Path dir, RootOfTrust root) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.anchors = root.anchors();
    this.bundle = Files.writeString(dir.resolve("ca.crt"), Pem.certificates(anchors));
    IdentitySettings settings = new IdentitySettings(true, TRUST_DOMAIN, "127.0.0.1", 0, "taskmesh-system",
        "taskmesh-operator", "taskmesh-operator", "unused", true, Duration.ofHours(24));
    TokenReviewer reviewer = token -> {
      TokenReviewer.ServiceAccount account = tokens.get(token);
      if (account == null) {
        throw new TokenReviewer.InvalidToken("not a token the bench wrote");
      }
      return account;
    };
    this.issuer = IssuerServer.start(reviewer, root, settings, Clock.systemUTC());
    this.discovery = DiscoveryServer.start("127.0.0.1", 0, endpoints, new RouteTables(), new AuthorizationTables(),
        (node, peer) -> { }, DiscoveryLimits.DEFAULTS, new SimpleMeterRegistry(), Optional.of(issuer.mutualTls()));
  }

  /** Starts the issuer and discovery on 127.0.0.1 (free ports) under a root made now; files go to {@code dir}. */
  public static BenchMesh start(Path dir) throws IOException {
    KeyPair key = Certificates.newKeyPair();
    Instant now = Instant.now();
    X509Certificate anchor = Certificates.selfSignedCa(key, "bench-root", now.minusSeconds(60),
        now.plus(Duration.ofDays(2)));
    return new BenchMesh(dir, RootOfTrust.of(new Authority(anchor, key.getPrivate()), List.of(anchor)));
  }

  public static SpiffeId id(String serviceAccount) {
    return new SpiffeId(TRUST_DOMAIN, NAMESPACE, serviceAccount);
  }

  /** The trust anchors as PEM: what every proxy checks its peers against. */
  public Path bundle() {
    return bundle;
  }

  public int discoveryPort() {
    return discovery.port();
  }

  /**
   * A sidecar config's {@code identity} section (YAML flow style) for {@code serviceAccount}, with a token the
   * issuer accepts written for it.
   */
  public String identitySection(String serviceAccount, String mode) throws IOException {
    return "{mode: %s, trustDomain: %s, issuer: \"localhost:%d\", tokenPath: \"%s\", trustBundlePath: \"%s\"}"
        .formatted(mode, TRUST_DOMAIN, issuer.port(), tokenFile(serviceAccount), bundle);
  }

  /** Discovery announces {@code service} at 127.0.0.1:{@code port}, meshed with {@code serviceAccount}'s identity. */
  public void announce(String service, int port, String serviceAccount) {
    endpoints.update(new ServiceKey(service, NAMESPACE), List.of(Endpoint.newBuilder().setAddress("127.0.0.1")
        .setPort(port).setReady(true).setIdentity(id(serviceAccount).uri()).build()));
  }

  /**
   * A certificate for {@code serviceAccount} from the issuer, asked for as a sidecar asks, written as one PEM file
   * (leaf, intermediate, private key) in the form haproxy's {@code crt} reads.
   */
  public Path certificateFile(String serviceAccount) throws IOException {
    PeerVerifier trust = new PeerVerifier(anchors, TRUST_DOMAIN, Clock.systemUTC());
    try (IssuerClient client = new IssuerClient("localhost", issuer.port(), "localhost", () -> trust,
        new TokenFile(tokenFile(serviceAccount)), Duration.ofHours(24))) {
      WorkloadCertificate certificate = client.certify(id(serviceAccount));
      return Files.writeString(dir.resolve(serviceAccount + ".pem"),
          Pem.certificates(certificate.chain()) + Pem.privateKey(certificate.key()));
    } catch (CertificateException e) {
      throw new IOException("the issuer's certificate for " + serviceAccount + " does not verify: " + e.getMessage(), e);
    }
  }

  /** A JWT-shaped token naming the ServiceAccount in its subject, as the kubelet's projected tokens do. */
  private Path tokenFile(String serviceAccount) throws IOException {
    String claims = "{\"sub\":\"system:serviceaccount:" + NAMESPACE + ":" + serviceAccount
        + "\",\"aud\":[\"taskmesh\"]}";
    Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
    String token = base64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + base64.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + ".signature";
    tokens.put(token, new TokenReviewer.ServiceAccount(NAMESPACE, serviceAccount));
    return Files.writeString(dir.resolve(serviceAccount + ".token"), token);
  }

  @Override
  public void close() {
    discovery.close();
    issuer.close();
  }
}
