package io.taskmesh.e2e.cluster.controllers;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The EndpointSlice controller: for each Service with a selector, one slice ({@code <service>-xxxxx}, labelled
 * {@code kubernetes.io/service-name}, owned by the Service) listing the selected pods that have an IP, with
 * conditions ready (the pod is Ready and not terminating), serving and terminating, and the Service's ports
 * resolved to the pods' container ports (named target ports included). Services without a selector are left to
 * whoever manages their slices.
 */
final class EndpointSliceController implements Controller {
  static final String SERVICE_NAME = "kubernetes.io/service-name";
  static final String MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
  static final String CONTROLLER = "endpointslice-controller.k8s.io";
  private static final Logger log = LoggerFactory.getLogger(EndpointSliceController.class);

  private final KubernetesClient api;

  EndpointSliceController(KubernetesClient api) {
    this.api = api;
  }

  @Override
  public void reconcile() {
    List<Pod> pods = api.pods().inAnyNamespace().list().getItems();
    List<EndpointSlice> slices = api.discovery().v1().endpointSlices().inAnyNamespace()
        .withLabel(MANAGED_BY, CONTROLLER).list().getItems();
    for (Service service : api.services().inAnyNamespace().list().getItems()) {
      Map<String, String> selector = service.getSpec().getSelector();
      if (selector == null || selector.isEmpty()) {
        continue;
      }
      String namespace = service.getMetadata().getNamespace();
      List<Pod> selected = pods.stream()
          .filter(pod -> pod.getMetadata().getNamespace().equals(namespace))
          .filter(pod -> pod.getMetadata().getLabels() != null
              && pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
          .filter(pod -> pod.getStatus() != null && pod.getStatus().getPodIP() != null && !Pods.finished(pod))
          .sorted(Comparator.comparing(pod -> pod.getMetadata().getName()))
          .toList();
      List<Endpoint> endpoints = selected.stream().map(EndpointSliceController::endpoint).toList();
      List<EndpointPort> ports = ports(service, selected);
      EndpointSlice existing = slices.stream()
          .filter(slice -> slice.getMetadata().getNamespace().equals(namespace)
              && service.getMetadata().getName().equals(slice.getMetadata().getLabels().get(SERVICE_NAME)))
          .findFirst().orElse(null);
      try {
        if (existing == null) {
          api.discovery().v1().endpointSlices().inNamespace(namespace).resource(new EndpointSliceBuilder()
              .withNewMetadata().withGenerateName(service.getMetadata().getName() + "-")
              .addToLabels(SERVICE_NAME, service.getMetadata().getName()).addToLabels(MANAGED_BY, CONTROLLER)
              .withOwnerReferences(Pods.controllerReference(service)).endMetadata()
              .withAddressType("IPv4").withEndpoints(endpoints).withPorts(ports).build()).create();
        } else if (!Objects.equals(existing.getEndpoints(), endpoints) || !Objects.equals(existing.getPorts(), ports)) {
          existing.setEndpoints(endpoints);
          existing.setPorts(ports);
          api.discovery().v1().endpointSlices().inNamespace(namespace).resource(existing).update();
        }
      } catch (KubernetesClientException e) {
        log.debug("event=endpointslice_sync_retry service={}/{} error={}", namespace, service.getMetadata().getName(),
            e.getMessage());
      }
    }
  }

  private static Endpoint endpoint(Pod pod) {
    boolean terminating = Pods.terminating(pod);
    boolean ready = Pods.ready(pod);
    return new EndpointBuilder().withAddresses(pod.getStatus().getPodIP())
        .withNewConditions().withReady(ready && !terminating).withServing(ready).withTerminating(terminating)
        .endConditions()
        .withNodeName(pod.getSpec().getNodeName())
        .withTargetRef(new ObjectReferenceBuilder().withKind("Pod").withNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).build())
        .build();
  }

  private static List<EndpointPort> ports(Service service, List<Pod> pods) {
    List<EndpointPort> ports = new ArrayList<>();
    for (ServicePort port : service.getSpec().getPorts()) {
      IntOrString target = port.getTargetPort() == null ? new IntOrString(port.getPort()) : port.getTargetPort();
      Integer number = target.getIntVal();
      if (number == null) {
        number = pods.stream().flatMap(pod -> Stream.concat(
                Stream.ofNullable(pod.getSpec().getInitContainers()).flatMap(List::stream),
                pod.getSpec().getContainers().stream()))
            .map(Container::getPorts).filter(Objects::nonNull).flatMap(List::stream)
            .filter(p -> target.getStrVal().equals(p.getName())).map(ContainerPort::getContainerPort)
            .findFirst().orElse(null);
        if (number == null) {
          continue;
        }
      }
      ports.add(new EndpointPortBuilder().withName(port.getName() == null ? "" : port.getName()).withPort(number)
          .withProtocol(port.getProtocol() == null ? "TCP" : port.getProtocol())
          .withAppProtocol(port.getAppProtocol()).build());
    }
    return ports;
  }
}
