package io.taskmesh.e2e.cluster;

import java.util.Objects;

/**
 * What a pod needs to reach the local cluster's API server the way in-cluster clients do: the kubelet sets
 * {@code KUBERNETES_SERVICE_HOST}/{@code KUBERNETES_SERVICE_PORT} to {@link #host}/{@link #port} and mounts
 * {@link #caCertificatePem} as {@code ca.crt} and {@link #serviceAccountToken} as {@code token} under
 * {@code /var/run/secrets/kubernetes.io/serviceaccount}.
 *
 * @param host an IP literal reachable from every pod (the node network's host address); the API server's
 *     certificate names it
 * @param port the API server's HTTPS port
 * @param caCertificatePem the CA that signed the API server's serving certificate, PEM
 * @param serviceAccountToken the bearer token pods present (the local API server accepts any)
 */
public record ClusterAccess(String host, int port, String caCertificatePem, String serviceAccountToken) {
  public ClusterAccess {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(caCertificatePem, "caCertificatePem");
    Objects.requireNonNull(serviceAccountToken, "serviceAccountToken");
    if (port <= 0 || port > 65535) {
      throw new IllegalArgumentException("API server port " + port + " is not a TCP port");
    }
  }

  /** The URL in-cluster clients build from the environment the kubelet sets. */
  public String url() {
    return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
