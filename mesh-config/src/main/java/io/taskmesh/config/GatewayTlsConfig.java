package io.taskmesh.config;

import java.util.List;
import java.util.Objects;

/**
 * TLS the gateway terminates for outside clients: a PEM certificate chain and its PEM private key, e.g. the
 * {@code tls.crt} and {@code tls.key} of a mounted {@code kubernetes.io/tls} Secret, and optionally the CA that
 * outside clients' certificates must chain to, and more certificates chosen by the server name a client asks for
 * (SNI). Every file is watched; a new valid set applies to the next connection.
 *
 * @param certFile PEM certificate chain, leaf first: served when no entry of {@code certificates} names the server
 *     name a client asks for, or it asks for none
 * @param keyFile PEM private key of the leaf (PKCS#8, PKCS#1 RSA or SEC1 EC)
 * @param clientAuth client certificates checked against a CA; null: none asked for
 * @param certificates more certificates, each served to clients asking for one of its server names
 */
public record GatewayTlsConfig(String certFile, String keyFile, ClientAuth clientAuth,
    List<ServerCertificate> certificates) {
  public GatewayTlsConfig {
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
    certificates = List.copyOf(certificates);
  }

  /** Without client certificates, one certificate for every server name. */
  public GatewayTlsConfig(String certFile, String keyFile) {
    this(certFile, keyFile, null, List.of());
  }

  /**
   * A certificate served by server name.
   *
   * @param serverNames lower-case DNS names, or {@code *.domain} for any one label in front of {@code domain}
   */
  public record ServerCertificate(List<String> serverNames, String certFile, String keyFile) {
    public ServerCertificate {
      serverNames = List.copyOf(serverNames);
      Objects.requireNonNull(certFile, "certFile");
      Objects.requireNonNull(keyFile, "keyFile");
    }
  }

  /** Whether a client without a certificate is let in; a certificate that does not chain to the CA never is. */
  public enum ClientAuthMode { OPTIONAL, REQUIRE }

  /**
   * @param mode {@code require}: a client without a certificate is refused in the handshake; {@code optional}: it
   *     is let in
   * @param caFile PEM certificates of the CAs outside clients' certificates must chain to
   */
  public record ClientAuth(ClientAuthMode mode, String caFile) {
    public ClientAuth {
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(caFile, "caFile");
    }
  }
}
