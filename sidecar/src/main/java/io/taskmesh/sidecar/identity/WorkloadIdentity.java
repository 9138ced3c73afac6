package io.taskmesh.sidecar.identity;

import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.taskmesh.config.IdentityConfig;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The proxy's identity as its config describes it: who it is (the ServiceAccount its token names), the
 * issuer it asks, the rotation that keeps its certificate current, the trust bundle (reloaded when the file changes)
 * and the TLS contexts made from them.
 */
public final class WorkloadIdentity implements AutoCloseable {
  private static final Pattern SUBJECT = Pattern.compile("system:serviceaccount:([^:]+):([^:]+)");
  private static final ObjectMapper JSON = new ObjectMapper();
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
    return start(config, clock, UnaryOperator.identity(), new SimpleMeterRegistry());
  }

  /**
   * {@link #start(IdentityConfig, Clock)}, the issuer's channel on the event loops {@code transport} gives it, the
   * trust bundle's reloads counted in {@code registry}.
   */
  public static WorkloadIdentity start(IdentityConfig config, Clock clock, UnaryOperator<NettyChannelBuilder> transport,
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
    IssuerClient issuer = new IssuerClient(host, port, host,
        () -> new PeerVerifier(bundle.anchors(), config.trustDomain(), clock), token, config.certLifetime(), transport);
    MeshTlsContexts contexts = new MeshTlsContexts(config.trustDomain(), clock, MeshTls.preferredProvider());
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
    JsonNode claims;
    try {
      claims = parts.length < 2 ? null : JSON.readTree(new String(Base64.getUrlDecoder().decode(parts[1]),
          StandardCharsets.UTF_8));
    } catch (IOException | IllegalArgumentException e) {
      claims = null;
    }
    String subject = claims == null ? "" : claims.path("sub").asText("");
    Matcher matcher = SUBJECT.matcher(subject);
    if (!matcher.matches()) {
      throw new IOException("token file " + from + " is not a ServiceAccount token (its subject is '" + subject
          + "', expected system:serviceaccount:<namespace>:<name>)");
    }
    return new SpiffeId(trustDomain, matcher.group(1), matcher.group(2));
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
