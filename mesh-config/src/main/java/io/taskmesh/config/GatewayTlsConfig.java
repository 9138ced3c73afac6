package io.taskmesh.config;

import java.util.Objects;

/**
 * TLS the gateway terminates for outside clients: a PEM certificate chain and its PEM private key, e.g. the
 * {@code tls.crt} and {@code tls.key} of a mounted {@code kubernetes.io/tls} Secret. Both files are watched; a
 * new valid pair applies to the next connection.
 *
 * @param certFile PEM certificate chain, leaf first
 * @param keyFile PEM private key of the leaf (PKCS#8, PKCS#1 RSA or SEC1 EC)
 */
public record GatewayTlsConfig(String certFile, String keyFile) {
  public GatewayTlsConfig {
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
  }
}
