package io.taskmesh.sidecar.identity;

import io.netty.handler.ssl.SslProvider;
import java.time.Clock;
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

  public MeshTlsContexts(String trustDomain, Clock clock, SslProvider provider) {
    this.trustDomain = trustDomain;
    this.clock = clock;
    this.provider = provider;
  }

  /** Makes contexts for {@code certificate} and uses them for every connection from now on. */
  public void use(WorkloadCertificate certificate) {
    current.set(MeshTls.of(certificate, trustDomain, clock, provider));
  }

  /** Empty until the first certificate has arrived. */
  public Optional<MeshTls> current() {
    return Optional.ofNullable(current.get());
  }

  public SslProvider provider() {
    return provider;
  }
}
