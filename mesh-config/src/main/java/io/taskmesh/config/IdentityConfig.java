package io.taskmesh.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The proxy's workload identity: the certificate it asks the issuer for and the trust it checks peers with.
 *
 * @param trustDomain the SPIFFE trust domain, the host part of {@code spiffe://<trustDomain>/ns/<ns>/sa/<sa>}
 * @param issuerAddress the operator's issuer {@code host:port} (TLS); {@code null} only when {@code mode} is off
 * @param tokenPath the projected ServiceAccount token (audience {@code taskmesh}) sent with each request
 * @param trustBundlePath PEM file of the trust anchors (the issuer's and every peer's chain ends at one)
 * @param certLifetime how long a certificate asked for is valid; it is renewed at two-thirds of its life
 */
public record IdentityConfig(IdentityMode mode, String trustDomain, String issuerAddress, String tokenPath,
    String trustBundlePath, Duration certLifetime) {
  public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";
  public static final String DEFAULT_TOKEN_PATH = "/var/run/secrets/taskmesh.io/token/token";
  public static final String DEFAULT_TRUST_BUNDLE_PATH = "/var/run/secrets/taskmesh.io/trust/ca.crt";
  public static final Duration DEFAULT_CERT_LIFETIME = Duration.ofHours(24);
  public static final IdentityConfig OFF = new IdentityConfig(IdentityMode.OFF, DEFAULT_TRUST_DOMAIN, null,
      DEFAULT_TOKEN_PATH, DEFAULT_TRUST_BUNDLE_PATH, DEFAULT_CERT_LIFETIME);

  public IdentityConfig {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(tokenPath, "tokenPath");
    Objects.requireNonNull(trustBundlePath, "trustBundlePath");
    Objects.requireNonNull(certLifetime, "certLifetime");
    if (mode != IdentityMode.OFF && issuerAddress == null) {
      throw new IllegalArgumentException("identity mode " + mode + " needs an issuer address");
    }
  }

  public boolean enabled() {
    return mode != IdentityMode.OFF;
  }
}
