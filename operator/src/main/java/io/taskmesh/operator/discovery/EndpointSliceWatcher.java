package io.taskmesh.operator.discovery;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.identity.SpiffeId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One informer on EndpointSlices for the whole cluster (not one per sidecar), turned into endpoint sets
 * per service. A service's sets are the union of its slices (found through an index by service); the port is the
 * one named {@code grpc}, else the first. Pushing the change to sidecars happens later, debounced, on the discovery
 * service's own thread.
 *
 * <p>With workload identities, a meshed endpoint keeps the SPIFFE ID it was announced with for as long as a slice
 * lists it, also once its pod has left {@link MeshedPods} (a terminating pod is deleted before its slice drops it):
 * announcing the pod's name instead would tell sidecars that a new, unmeshed endpoint took its place, which they
 * would dial in plaintext and a strict server refuses. The pods are listed before the first slice is read, so
 * the operator's own start does not announce meshed endpoints as unmeshed either.
 */
public final class EndpointSliceWatcher implements AutoCloseable {
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  private static final String BY_SERVICE = "service";
  private static final String SPIFFE_SCHEME = "spiffe://";

  private final KubernetesClient client;
  private final EndpointRegistry registry;
  private final Optional<MeshedPods> meshedPods;
  private volatile SharedIndexInformer<EndpointSlice> informer;

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
    meshedPods.ifPresent(pods -> pods.start(this::refreshNamespace));
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

  /** Synchronized: slice events and pod events both rebuild sets, and a set built earlier must not land later. */
  private synchronized void refresh(EndpointSlice changed) {
    String namespace = changed.getMetadata().getNamespace();
    ServiceKey key = new ServiceKey(changed.getMetadata().getLabels().get(SERVICE_NAME_LABEL), namespace);
    Map<Placement, String> announcedMeshed = meshedIdentities(registry.current(key).endpoints());
    List<Endpoint> endpoints = new ArrayList<>();
    // only this service's slices, through the index; the rest of the cluster is not read
    for (EndpointSlice slice : informer.getIndexer().byIndex(BY_SERVICE, serviceOf(changed))) {
      endpoints.addAll(endpointsOf(slice, announcedMeshed));
    }
    endpoints.sort(Comparator.comparing(Endpoint::getAddress).thenComparing(Endpoint::getPort));
    registry.update(key, endpoints);
  }

  /** Where one pod's endpoint is: an identity announced for it holds only for that same pod at that same place. */
  private record Placement(String pod, String address, int port) {}

  private static Map<Placement, String> meshedIdentities(List<Endpoint> announced) {
    Map<Placement, String> identities = new HashMap<>();
    for (Endpoint endpoint : announced) {
      if (endpoint.getIdentity().startsWith(SPIFFE_SCHEME) && !endpoint.getPodName().isEmpty()) {
        identities.put(new Placement(endpoint.getPodName(), endpoint.getAddress(), endpoint.getPort()),
            endpoint.getIdentity());
      }
    }
    return identities;
  }

  private String identityOf(String namespace, Placement placement, Map<Placement, String> announcedMeshed) {
    return meshedPods.flatMap(pods -> pods.identityOf(namespace, placement.pod())).map(SpiffeId::uri)
        .or(() -> Optional.ofNullable(announcedMeshed.get(placement)))
        .orElse(placement.pod().isEmpty() ? placement.address() : placement.pod());
  }

  private List<Endpoint> endpointsOf(EndpointSlice slice, Map<Placement, String> announcedMeshed) {
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
            .setIdentity(identityOf(slice.getMetadata().getNamespace(), new Placement(pod, address, port),
                announcedMeshed))
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
