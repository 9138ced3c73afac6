package io.taskmesh.operator.identity;

import io.taskmesh.config.Durations;
import io.taskmesh.identity.SpiffeId;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How the workload issuer runs, as the chart's Deployment tells the operator.
 *
 * @param port the issuer's TLS port (15012); 0 picks a free one (tests)
 * @param namespace the operator's namespace: where the trust anchor Secret is, and part of its own SPIFFE ID
 * @param serviceAccount the operator's ServiceAccount, for the SPIFFE ID in the issuer's serving certificate
 * @param serviceName the Service sidecars reach the issuer through; the serving certificate names it
 * @param anchorSecret the Secret holding the root of trust (ca.crt, tls.key, and tls.crt when the signing CA
 *     is not the anchor)
 * @param anchorManaged {@code true}: the operator makes the anchor and creates the Secret if missing;
 *     {@code false}: the user provides it (e.g. cert-manager) and the operator only reads it
 * @param maxCertLifetime the longest a workload certificate may live; requests for longer are cut to it
 */
public record IdentitySettings(boolean enabled, String trustDomain, String bindAddress, int port, String namespace,
    String serviceAccount, String serviceName, String anchorSecret, boolean anchorManaged, Duration maxCertLifetime) {
  public static final int DEFAULT_PORT = 15012;

  public IdentitySettings {
    SpiffeId.checkTrustDomain(trustDomain);
    if (maxCertLifetime.compareTo(Duration.ofMinutes(10)) < 0) {
      throw new IllegalArgumentException("TASKMESH_MAX_CERT_LIFETIME: at least 10m, got " + Durations.format(maxCertLifetime));
    }
  }

  public static IdentitySettings fromEnvironment(Map<String, String> env) {
    String service = env.getOrDefault("TASKMESH_ISSUER_SERVICE_NAME", "taskmesh-operator");
    String port = env.getOrDefault("TASKMESH_ISSUER_PORT", String.valueOf(DEFAULT_PORT));
    String lifetime = env.getOrDefault("TASKMESH_MAX_CERT_LIFETIME", "24h");
    int parsedPort;
    Duration parsedLifetime;
    try {
      parsedPort = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("TASKMESH_ISSUER_PORT: \"" + port + "\" is not a port number");
    }
    try {
      parsedLifetime = Durations.parse(lifetime);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("TASKMESH_MAX_CERT_LIFETIME: " + e.getMessage(), e);
    }
    return new IdentitySettings(
        Boolean.parseBoolean(env.getOrDefault("TASKMESH_IDENTITY_ENABLED", "false")),
        env.getOrDefault("TASKMESH_TRUST_DOMAIN", "cluster.local"),
        "0.0.0.0",
        parsedPort,
        env.getOrDefault("TASKMESH_NAMESPACE", "taskmesh-system"),
        env.getOrDefault("TASKMESH_SERVICE_ACCOUNT", "taskmesh-operator"),
        service,
        env.getOrDefault("TASKMESH_TRUST_ANCHOR_SECRET", service + "-trust-anchor"),
        Boolean.parseBoolean(env.getOrDefault("TASKMESH_TRUST_ANCHOR_MANAGED", "true")),
        parsedLifetime);
  }

  /**
   * The names sidecars may use to reach the issuer: through its Service, and {@code localhost} for a mesh
   * run on one machine (the local mesh, tests).
   */
  public List<String> servingNames() {
    return List.of(serviceName + "." + namespace + ".svc", serviceName + "." + namespace + ".svc.cluster.local",
        serviceName + "." + namespace, serviceName, "localhost");
  }
}
