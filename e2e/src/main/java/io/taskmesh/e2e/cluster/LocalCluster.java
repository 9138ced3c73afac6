package io.taskmesh.e2e.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;

/**
 * A Kubernetes cluster on this machine, for the product to run on as it does on a real one: an API server
 * (HTTPS, schema and CEL checked, admission webhooks called), the controllers the product relies on, and one
 * node whose kubelet runs pods in network namespaces. Needs root.
 */
public final class LocalCluster implements AutoCloseable {
  private final KubernetesClient client;
  private final ClusterAccess access;
  private final Path kubeconfig;

  private LocalCluster(KubernetesClient client, ClusterAccess access, Path kubeconfig) {
    this.client = client;
    this.access = access;
    this.kubeconfig = kubeconfig;
  }

  /** A client for the cluster, as an administrator. */
  public KubernetesClient client() {
    return client;
  }

  /** How pods reach the API server. */
  public ClusterAccess access() {
    return access;
  }

  /** A kubeconfig file for {@code kubectl}. */
  public Path kubeconfig() {
    return kubeconfig;
  }

  @Override
  public void close() {
    client.close();
  }
}
