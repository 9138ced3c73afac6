package io.taskmesh.sidecar.identity;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * TLS to the control plane (discovery) with identity on: the sidecar presents the workload certificate in force
 * at each handshake (so a rotation needs no new channel), and checks the operator's serving certificate against
 * the trust bundle in force and the discovery address's host name.
 */
public final class ControlPlaneTls {
  private ControlPlaneTls() {}

  /** @param trustAnchors the anchors in force at each handshake (the mounted bundle, reloaded when it changes) */
  public static ChannelCredentials credentials(MeshTlsContexts contexts, Supplier<List<X509Certificate>> trustAnchors) {
    return TlsChannelCredentials.newBuilder().keyManager(new CurrentCertificate(contexts))
        .trustManager(TrustBundle.following(trustAnchors)).build();
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
