package io.taskmesh.operator.discovery;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.discovery.v1.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One informer on EndpointSlices for the whole cluster (not one per sidecar), turned into endpoint sets
 * per service. A service's sets are the union of its slices (found through an index by service); the port is the
 * one named {@code grpc}, else the first. Pushing the change to sidecars happens later, debounced, on the discovery
 * service's own thread.
 */
public final class EndpointSliceWatcher implements AutoCloseable {
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  private static final String BY_SERVICE = "service";

  private final KubernetesClient client;
  private final EndpointRegistry registry;
  private final Optional<MeshedPods> meshedPods;
  private SharedIndexInformer<EndpointSlice> informer;

  /** Without workload identities: every endpoint's identity is its pod name (or address). */
  public EndpointSliceWatcher(KubernetesClient client, EndpointRegistry registry) {
    this(client, registry, Optional.empty());
  }

  /** @param meshedPods the pods with a workload identity, whose endpoints carry their SPIFFE ID */
  public EndpointSliceWatcher(KubernetesClient client, EndpointRegistry registry, Optional<MeshedPods> meshedPods) {
    this.client = client;
    this.registry = registry;
    this.meshedPods = meshedPods;
  }

  public void start() {
    informer = client.discovery().v1().endpointSlices().inAnyNamespace()
        .withLabel(SERVICE_NAME_LABEL)
        .runnableInformer(0);
    informer.addIndexers(Map.of(BY_SERVICE, slice -> List.of(serviceOf(slice))));
    informer.addEventHandler(new ResourceEventHandler<>() {
          @Override
          public void onAdd(EndpointSlice slice) {
            refresh(slice);
          }

          @Override
          public void onUpdate(EndpointSlice before, EndpointSlice after) {
            refresh(after);
          }

          @Override
          public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {
            refresh(slice);
          }
        });
    informer.start();
    meshedPods.ifPresent(pods -> pods.start(this::refreshNamespace));
  }

  /** A meshed pod appeared or changed: the sets of its namespace's services are built again (with its identity). */
  private void refreshNamespace(String namespace) {
    if (informer == null) {
      return;
    }
    informer.getStore().list().stream()
        .filter(slice -> namespace.equals(slice.getMetadata().getNamespace()))
        .map(EndpointSliceWatcher::serviceOf).distinct()
        .forEach(service -> refresh(informer.getIndexer().byIndex(BY_SERVICE, service).get(0)));
  }

  private static String serviceOf(EndpointSlice slice) {
    return slice.getMetadata().getNamespace() + "/" + slice.getMetadata().getLabels().get(SERVICE_NAME_LABEL);
  }

  private void refresh(EndpointSlice changed) {
    String namespace = changed.getMetadata().getNamespace();
    String service = changed.getMetadata().getLabels().get(SERVICE_NAME_LABEL);
    List<Endpoint> endpoints = new ArrayList<>();
    // only this service's slices, through the index; the rest of the cluster is not read
    for (EndpointSlice slice : informer.getIndexer().byIndex(BY_SERVICE, serviceOf(changed))) {
      endpoints.addAll(endpointsOf(slice));
    }
    endpoints.sort(java.util.Comparator.comparing(Endpoint::getAddress).thenComparing(Endpoint::getPort));
    registry.update(new ServiceKey(service, namespace), endpoints);
  }

  private List<Endpoint> endpointsOf(EndpointSlice slice) {
    Integer port = slice.getPorts() == null ? null : slice.getPorts().stream()
        .filter(p -> "grpc".equals(p.getName())).map(EndpointPort::getPort).findFirst()
        .orElse(slice.getPorts().isEmpty() ? null : slice.getPorts().get(0).getPort());
    List<Endpoint> endpoints = new ArrayList<>();
    if (port == null || slice.getEndpoints() == null) {
      return endpoints;
    }
    for (var endpoint : slice.getEndpoints()) {
      boolean ready = endpoint.getConditions() == null || !Boolean.FALSE.equals(endpoint.getConditions().getReady());
      String pod = endpoint.getTargetRef() == null ? "" : Objects.toString(endpoint.getTargetRef().getName(), "");
      for (String address : endpoint.getAddresses()) {
        endpoints.add(Endpoint.newBuilder()
            .setAddress(address)
            .setPort(port)
            .setReady(ready)
            .setZone(Objects.toString(endpoint.getZone(), ""))
            .setPodName(pod)
            .setIdentity(meshedPods.flatMap(pods -> pods.identityOf(slice.getMetadata().getNamespace(), pod))
                .map(io.taskmesh.identity.SpiffeId::uri).orElse(pod.isEmpty() ? address : pod))
            .build());
      }
    }
    return endpoints;
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
