package io.taskmesh.operator.webhook;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How the injection webhook is served, as the chart's Deployment tells the operator.
 *
 * @param port HTTPS port; 0 picks a free one (tests)
 * @param configName the MutatingWebhookConfiguration whose caBundle the operator keeps current
 * @param serviceName the Service in front of the webhook; the certificate names {@code <service>.<namespace>.svc}
 * @param certSecret the Secret the operator keeps its own certificate in (when {@code certManaged})
 * @param certManaged {@code true}: the operator makes and rotates the certificate; {@code false}: it reads
 *     tls.crt, tls.key and (optionally) ca.crt from {@code certDir}, a mounted Secret
 */
public record WebhookSettings(boolean enabled, String bindAddress, int port, String namespace, String configName,
    String serviceName, String certSecret, boolean certManaged, Path certDir) {

  public static WebhookSettings fromEnvironment(Map<String, String> env) {
    String namespace = env.getOrDefault("TASKMESH_NAMESPACE", "taskmesh-system");
    String service = env.getOrDefault("TASKMESH_WEBHOOK_SERVICE_NAME", "taskmesh-operator");
    String port = env.getOrDefault("TASKMESH_WEBHOOK_PORT", "9443");
    int parsedPort;
    try {
      parsedPort = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("TASKMESH_WEBHOOK_PORT: \"" + port + "\" is not a port number");
    }
    return new WebhookSettings(
        Boolean.parseBoolean(env.getOrDefault("TASKMESH_WEBHOOK_ENABLED", "true")),
        "0.0.0.0",
        parsedPort,
        namespace,
        env.getOrDefault("TASKMESH_WEBHOOK_CONFIG_NAME", "taskmesh-sidecar-injector.taskmesh.io"),
        service,
        env.getOrDefault("TASKMESH_WEBHOOK_CERT_SECRET", service + "-webhook-cert"),
        Boolean.parseBoolean(env.getOrDefault("TASKMESH_WEBHOOK_CERT_MANAGED", "true")),
        Path.of(env.getOrDefault("TASKMESH_WEBHOOK_CERT_DIR", "/etc/taskmesh/webhook-tls")));
  }

  /** The names the API server may use to reach the webhook through its Service. */
  public List<String> dnsNames() {
    return List.of(serviceName + "." + namespace + ".svc", serviceName + "." + namespace + ".svc.cluster.local",
        serviceName + "." + namespace, serviceName);
  }
}
