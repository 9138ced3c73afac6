package io.taskmesh.config;

import java.util.Objects;

/**
 * TLS the gateway terminates for outside clients: a PEM certificate chain and its PEM private key, e.g. the
 * {@code tls.crt} and {@code tls.key} of a mounted {@code kubernetes.io/tls} Secret, and optionally the CA that
 * outside clients' certificates must chain to. Every file is watched; a new valid set applies to the next connection.
 *
 * @param certFile PEM certificate chain, leaf first
 * @param keyFile PEM private key of the leaf (PKCS#8, PKCS#1 RSA or SEC1 EC)
 * @param clientAuth client certificates checked against a CA; null: none asked for
 */
public record GatewayTlsConfig(String certFile, String keyFile, ClientAuth clientAuth) {
  public GatewayTlsConfig {
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
  }

  /** Without client certificates. */
  public GatewayTlsConfig(String certFile, String keyFile) {
    this(certFile, keyFile, null);
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
