package io.taskmesh.e2e.cluster.controllers;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * What every namespace gets from the controller manager: the {@code default} ServiceAccount (service account
 * controller) and ConfigMap {@code kube-root-ca.crt} with the cluster CA (root CA publisher).
 */
final class NamespaceController implements Controller {
  private final KubernetesClient api;
  private final String caPem;

  NamespaceController(KubernetesClient api, String caPem) {
    this.api = api;
    this.caPem = caPem;
  }

  @Override
  public void reconcile() {
    for (Namespace namespace : api.namespaces().list().getItems()) {
      String name = namespace.getMetadata().getName();
      try {
        if (api.serviceAccounts().inNamespace(name).withName("default").get() == null) {
          api.serviceAccounts().inNamespace(name).resource(new ServiceAccountBuilder().withNewMetadata()
              .withName("default").endMetadata().build()).create();
        }
        if (api.configMaps().inNamespace(name).withName("kube-root-ca.crt").get() == null) {
          api.configMaps().inNamespace(name).resource(new ConfigMapBuilder().withNewMetadata()
              .withName("kube-root-ca.crt").endMetadata().addToData("ca.crt", caPem).build()).create();
        }
      } catch (KubernetesClientException e) {
        // created meanwhile: the next pass sees it
      }
    }
  }
}
