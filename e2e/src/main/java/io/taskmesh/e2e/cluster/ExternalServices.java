package io.taskmesh.e2e.cluster;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;

/**
 * Services that run outside the cluster but are called by name from inside it, the Kubernetes way: a Service
 * without a selector and an EndpointSlice that points at the host address, so pods reach {@code <name>:<port>}
 * through kube-proxy like any other Service.
 */
final class ExternalServices {
  static final String MANAGED_BY = "local-cluster";

  private ExternalServices() {}

  static void register(KubernetesClient api, String namespace, String name, int port, InetAddress host, int hostPort) {
    api.services().inNamespace(namespace).resource(new ServiceBuilder().withNewMetadata().withName(name)
        .addToLabels("app.kubernetes.io/part-of", "local-cluster").endMetadata()
        .withNewSpec().addNewPort().withName("tcp").withPort(port).withNewTargetPort(hostPort).endPort().endSpec()
        .build()).create();
    api.discovery().v1().endpointSlices().inNamespace(namespace).resource(new EndpointSliceBuilder()
        .withNewMetadata().withName(name + "-external").addToLabels("kubernetes.io/service-name", name)
        .addToLabels("endpointslice.kubernetes.io/managed-by", MANAGED_BY).endMetadata()
        .withAddressType("IPv4")
        .addNewEndpoint().withAddresses(host.getHostAddress()).withNewConditions().withReady(true).withServing(true)
        .withTerminating(false).endConditions().endEndpoint()
        .addNewPort().withName("tcp").withPort(hostPort).withProtocol("TCP").endPort().build()).create();
  }
}
