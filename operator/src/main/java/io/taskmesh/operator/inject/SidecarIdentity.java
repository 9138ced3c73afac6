package io.taskmesh.operator.inject;

import io.taskmesh.config.IdentityMode;
import io.taskmesh.identity.SpiffeId;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The workload identity the operator gives every sidecar it renders a config for or injects: the mTLS mode,
 * the trust domain and where the issuer is. On whenever the operator runs its issuer.
 *
 * @param issuerAddress {@code host:port} of the operator's issuer Service (TLS, port 15012); null when off
 */
public record SidecarIdentity(IdentityMode mode, String trustDomain, String issuerAddress) {
  public static final SidecarIdentity OFF = new SidecarIdentity(IdentityMode.OFF, "cluster.local", null);

  public SidecarIdentity {
    Objects.requireNonNull(mode, "mode");
    SpiffeId.checkTrustDomain(trustDomain);
    if (mode != IdentityMode.OFF && issuerAddress == null) {
      throw new IllegalArgumentException("an issuer address is needed for mTLS mode " + mode);
    }
  }

  /**
   * From the operator's Deployment: on with {@code TASKMESH_IDENTITY_ENABLED=true}, in mode
   * {@code TASKMESH_MTLS_MODE} (permissive, the default, or strict), the issuer at
   * {@code <TASKMESH_ISSUER_SERVICE_NAME>.<TASKMESH_NAMESPACE>.svc:<TASKMESH_ISSUER_PORT>}.
   */
  public static SidecarIdentity fromEnvironment(Map<String, String> env) {
    if (!Boolean.parseBoolean(env.getOrDefault("TASKMESH_IDENTITY_ENABLED", "false"))) {
      return OFF;
    }
    String mode = env.getOrDefault("TASKMESH_MTLS_MODE", "permissive").trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("permissive") && !mode.equals("strict")) {
      throw new IllegalArgumentException("TASKMESH_MTLS_MODE: \"" + mode + "\" is neither permissive nor strict");
    }
    String issuer = env.getOrDefault("TASKMESH_ISSUER_SERVICE_NAME", "taskmesh-operator") + "."
        + env.getOrDefault("TASKMESH_NAMESPACE", "taskmesh-system") + ".svc:"
        + env.getOrDefault("TASKMESH_ISSUER_PORT", "15012");
    return new SidecarIdentity(IdentityMode.valueOf(mode.toUpperCase(Locale.ROOT)),
        env.getOrDefault("TASKMESH_TRUST_DOMAIN", "cluster.local"), issuer);
  }

  public boolean enabled() {
    return mode != IdentityMode.OFF;
  }

  /** The proxy config's {@code identity} section as a tree's values (the token and bundle paths are defaults). */
  public Map<String, String> configSection() {
    return Map.of("mode", mode.name().toLowerCase(Locale.ROOT), "trustDomain", trustDomain, "issuer", issuerAddress);
  }
}
