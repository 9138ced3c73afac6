package io.taskmesh.sidecar.identity;

import io.netty.handler.ssl.SslProvider;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The TLS contexts new connections are made with. A rotation swaps them; a connection already open keeps
 * the SslHandler it was made with, so it is never dropped by a rotation and ends as it would have.
 */
public final class MeshTlsContexts {
  private final String trustDomain;
  private final Clock clock;
  private final SslProvider provider;
  private final AtomicReference<MeshTls> current = new AtomicReference<>();
  /** Null until the mounted trust bundle changed; then the anchors peers are checked against. */
  private List<X509Certificate> reloadedAnchors;

  public MeshTlsContexts(String trustDomain, Clock clock, SslProvider provider) {
    this.trustDomain = trustDomain;
    this.clock = clock;
    this.provider = provider;
  }

  /** Makes contexts for {@code certificate} and uses them for every connection from now on. */
  public synchronized void use(WorkloadCertificate certificate) {
    WorkloadCertificate trusting = reloadedAnchors == null ? certificate : certificate.trusting(reloadedAnchors);
    current.set(MeshTls.of(trusting, trustDomain, clock, provider));
  }

  /**
   * A changed trust bundle: new handshakes check peers against {@code anchors} from now on (with this certificate
   * and the next ones, whatever anchors the issuer listed with them); open connections keep their contexts.
   */
  public synchronized void trust(List<X509Certificate> anchors) {
    reloadedAnchors = List.copyOf(anchors);
    current().ifPresent(tls -> use(tls.certificate()));
  }

  /** Empty until the first certificate has arrived. */
  public Optional<MeshTls> current() {
    return Optional.ofNullable(current.get());
  }

  public SslProvider provider() {
    return provider;
  }
}
