package io.taskmesh.operator.discovery;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.operator.lifecycle.EveryChange;
import java.util.HashMap;
import java.util.Map;

/**
 * ClusterIP:port of every Service, so that a sidecar that captured a connection to an IP (a client that
 * dialled an address, not a name) can ask which service it meant. One informer for the cluster.
 */
public final class ServiceAddressWatcher implements AutoCloseable {
  private final KubernetesClient client;
  private final EndpointRegistry registry;
  private SharedIndexInformer<Service> informer;

  public ServiceAddressWatcher(KubernetesClient client, EndpointRegistry registry) {
    this.client = client;
    this.registry = registry;
  }

  public void start() {
    // assigned before it runs: its handlers read the store through this field from the first event on
    informer = client.services().inAnyNamespace().runnableInformer(0);
    informer.addEventHandler(new EveryChange<>(this::refresh));
    informer.run();
    refresh();
  }

  private synchronized void refresh() {
    Map<String, ServiceKey> addresses = new HashMap<>();
    for (Service service : informer.getStore().list()) {
      addresses.putAll(addressesOf(service));
    }
    registry.useAddresses(addresses);
  }

  static Map<String, ServiceKey> addressesOf(Service service) {
    Map<String, ServiceKey> addresses = new HashMap<>();
    String clusterIp = service.getSpec() == null ? null : service.getSpec().getClusterIP();
    if (clusterIp == null || clusterIp.isEmpty() || "None".equals(clusterIp) || service.getSpec().getPorts() == null) {
      return addresses;
    }
    ServiceKey key = new ServiceKey(service.getMetadata().getName(), service.getMetadata().getNamespace());
    for (ServicePort port : service.getSpec().getPorts()) {
      if (port.getProtocol() == null || "TCP".equals(port.getProtocol())) {
        addresses.put(clusterIp + ":" + port.getPort(), key);
      }
    }
    return addresses;
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
