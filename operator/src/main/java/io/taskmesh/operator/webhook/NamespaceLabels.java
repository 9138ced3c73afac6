package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;

/**
 * The labels of namespaces, from an informer, so that an admission does not wait on a GET to the API server.
 * A namespace the cache does not hold yet (made a moment ago) is read once directly.
 */
public final class NamespaceLabels implements AutoCloseable {
  private final KubernetesClient client;
  private final SharedIndexInformer<Namespace> informer;

  private NamespaceLabels(KubernetesClient client, SharedIndexInformer<Namespace> informer) {
    this.client = client;
    this.informer = informer;
  }

  public static NamespaceLabels start(KubernetesClient client) {
    return new NamespaceLabels(client, client.namespaces().inform());
  }

  /** The value of label {@code key} on {@code namespace}, or null. */
  public String label(String namespace, String key) {
    Namespace ns = informer.getStore().getByKey(namespace);
    if (ns == null) {
      ns = client.namespaces().withName(namespace).get();
    }
    Map<String, String> labels = ns == null ? null : ns.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }

  @Override
  public void close() {
    informer.close();
  }
}
