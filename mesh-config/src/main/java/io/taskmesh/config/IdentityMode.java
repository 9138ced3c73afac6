package io.taskmesh.config;

/** Whether the proxy takes part in mutual TLS, and whether it still accepts plaintext from other pods. */
public enum IdentityMode {
  /** No certificate: plaintext h2c both ways, as before identity existed. */
  OFF,
  /** A certificate, mTLS to meshed endpoints; inbound accepts TLS and plaintext alike. */
  PERMISSIVE,
  /** As permissive, but inbound plaintext from other pods is refused. */
  STRICT
}
