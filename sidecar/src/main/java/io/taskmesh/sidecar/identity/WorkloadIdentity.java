package io.taskmesh.sidecar.identity;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.IdentityConfig;
import io.taskmesh.config.YamlTrees;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import io.taskmesh.sidecar.NettyResources;
import java.util.regex.Pattern;

/**
 * The proxy's identity as its config describes it: who it is (the ServiceAccount its token names), the
 * issuer it asks, the rotation that keeps its certificate current, the trust bundle (reloaded when the file changes)
 * and the TLS contexts made from them.
 */
public final class WorkloadIdentity implements AutoCloseable {
  private static final Pattern SUBJECT = Pattern.compile("system:serviceaccount:([^:]+):([^:]+)");
  private final SpiffeId id;
  private final MeshTlsContexts contexts;
  private final IssuerClient issuer;
  private final CertificateRotator rotator;
  private final CompletableFuture<WorkloadCertificate> ready;
  private final TrustBundleFile bundle;

  private WorkloadIdentity(SpiffeId id, MeshTlsContexts contexts, IssuerClient issuer, CertificateRotator rotator,
      TrustBundleFile bundle) {
    this.id = id;
    this.bundle = bundle;
    this.contexts = contexts;
    this.issuer = issuer;
    this.rotator = rotator;
    this.ready = rotator.start();
  }

  /**
   * Reads the token and the trust bundle, then starts asking for the first certificate.
   *
   * @throws IOException when the token or the trust bundle cannot be read; the message names the file
   */
  public static WorkloadIdentity start(IdentityConfig config, Clock clock) throws IOException {
    return start(config, clock, null, new SimpleMeterRegistry());
  }

  /**
   * {@link #start(IdentityConfig, Clock)}, the issuer's channel on {@code netty}'s event loops (null: its own), the
   * trust bundle's reloads counted in {@code registry}.
   */
  public static WorkloadIdentity start(IdentityConfig config, Clock clock, NettyResources netty,
      MeterRegistry registry) throws IOException {
    if (!config.enabled()) {
      throw new IllegalArgumentException("identity is off in this config");
    }
    TokenFile token = new TokenFile(Path.of(config.tokenPath()));
    SpiffeId id = idOf(token.read(), config.trustDomain(), token.path());
    TrustBundleFile bundle = new TrustBundleFile(Path.of(config.trustBundlePath()), TrustBundleFile.CHECK_EVERY,
        clock, registry);
    int colon = config.issuerAddress().lastIndexOf(':');
    String host = config.issuerAddress().substring(0, colon);
    int port = Integer.parseInt(config.issuerAddress().substring(colon + 1));
    MeshTlsContexts contexts = new MeshTlsContexts(config.trustDomain(), clock, MeshTls.preferredProvider());
    IssuerClient issuer = new IssuerClient(host, port, host,
        () -> new PeerVerifier(bundle.anchors(), config.trustDomain(), clock), token, config.certLifetime(), netty,
        contexts.provider());
    bundle.onChange(contexts::trust);
    CertificateRotator rotator = new CertificateRotator(() -> issuer.certify(id), contexts::use, clock);
    return new WorkloadIdentity(id, contexts, issuer, rotator, bundle);
  }

  /**
   * The SPIFFE ID of the ServiceAccount a token names in its {@code sub} claim. The token is not checked
   * here (the issuer has the API server review it); this only tells the proxy what to ask for.
   */
  static SpiffeId idOf(String jwt, String trustDomain, Path from) throws IOException {
    String[] parts = jwt.split("\\.");
    Object claims; // JSON, which the config's YAML reader reads too: no JSON library loaded for one claim
    try {
      claims = parts.length < 2 ? null : YamlTrees.read(withoutEscapedSlashes(
          new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)));
    } catch (ConfigException | IllegalArgumentException e) {
      claims = null;
    }
    Object sub = claims instanceof Map<?, ?> named ? named.get("sub") : null;
    String subject = sub instanceof String text ? text : "";
    Matcher matcher = SUBJECT.matcher(subject);
    if (!matcher.matches()) {
      throw new IOException("token file " + from + " is not a ServiceAccount token (its subject is '" + subject
          + "', expected system:serviceaccount:<namespace>:<name>)");
    }
    return new SpiffeId(trustDomain, matcher.group(1), matcher.group(2));
  }

  /** JSON's {@code \/} as {@code /}: the one JSON escape YAML's double-quoted strings do not have. */
  private static String withoutEscapedSlashes(String json) {
    StringBuilder text = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c == '\\' && i + 1 < json.length()) {
        char escaped = json.charAt(++i);
        if (escaped != '/') {
          text.append(c);
        }
        text.append(escaped);
      } else {
        text.append(c);
      }
    }
    return text.toString();
  }

  public SpiffeId id() {
    return id;
  }

  /**
   * The mounted trust bundle's anchors in force (it is reloaded when it changes): what the control plane's serving
   * certificate is checked against.
   */
  public List<X509Certificate> trustAnchors() {
    return bundle.anchors();
  }

  public MeshTlsContexts contexts() {
    return contexts;
  }

  /** Completes when the first certificate is in use. */
  public CompletableFuture<WorkloadCertificate> ready() {
    return ready;
  }

  @Override
  public void close() {
    rotator.close();
    issuer.close();
    bundle.close();
  }
}
