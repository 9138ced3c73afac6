package io.taskmesh.sidecar.identity;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * TLS to the control plane with identity on. To discovery the sidecar presents the workload certificate in force
 * at each handshake (so a rotation needs no new channel); to the issuer, which gives that certificate, none. Either
 * way the operator's serving certificate is checked against the trust bundle in force and against the host name the
 * sidecar dialled, as any TLS client does, and the connection must agree on HTTP/2 (ALPN h2), as gRPC asks.
 */
public final class ControlPlaneTls {
  private ControlPlaneTls() {}

  /**
   * For discovery.
   *
   * @param trustAnchors the anchors in force at each handshake (the mounted bundle, reloaded when it changes)
   */
  public static SslContext discovery(MeshTlsContexts contexts, Supplier<List<X509Certificate>> trustAnchors) {
    return client(contexts.provider(), trustAnchors, new CurrentCertificate(contexts));
  }

  /** For the issuer: no client certificate (it is what the sidecar asks for). */
  public static SslContext issuer(SslProvider provider, Supplier<List<X509Certificate>> trustAnchors) {
    return client(provider, trustAnchors, null);
  }

  private static SslContext client(SslProvider provider, Supplier<List<X509Certificate>> trustAnchors,
      X509ExtendedKeyManager keys) {
    try {
      return SslContextBuilder.forClient()
          .sslProvider(provider)
          .keyManager(keys)
          .trustManager(TrustBundle.following(trustAnchors))
          .endpointIdentificationAlgorithm("HTTPS")
          .applicationProtocolConfig(MeshTls.H2_ONLY)
          .build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the control plane's TLS context with " + provider + ": "
          + e.getMessage(), e);
    }
  }

  /** Names the current certificate by its serial, so a chain and a key asked for by one alias always match. */
  private static final class CurrentCertificate extends X509ExtendedKeyManager {
    private final MeshTlsContexts contexts;

    CurrentCertificate(MeshTlsContexts contexts) {
      this.contexts = contexts;
    }

    private Optional<WorkloadCertificate> current() {
      return contexts.current().map(MeshTls::certificate);
    }

    private Optional<WorkloadCertificate> named(String alias) {
      return current().filter(certificate -> certificate.leaf().getSerialNumber().toString(16).equals(alias));
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
      return current().map(certificate -> certificate.leaf().getSerialNumber().toString(16)).orElse(null);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      return chooseClientAlias(keyTypes, issuers, null);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      String alias = chooseClientAlias(null, issuers, null);
      return alias == null ? null : new String[] {alias};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return named(alias).map(certificate -> certificate.chain().toArray(X509Certificate[]::new)).orElse(null);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return named(alias).map(WorkloadCertificate::key).orElse(null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }
}
