package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the sidecar needs to know about a pod, read from the pod itself as a mesh user expects: the service from
 * the {@code app.kubernetes.io/name} or {@code app} label, else the pod's controller (Deployment via its
 * ReplicaSet, StatefulSet, DaemonSet, Job), else the pod's own name; the ports from its containers' TCP ports,
 * the gRPC one being the port named {@code grpc*}, else the first. The {@code taskmesh.io/*} annotations only
 * override. A pod with no port is a client only: nothing inbound is captured.
 *
 * @param appPort the port the sidecar's inbound chain forwards gRPC to; empty for a client-only pod
 * @param inboundPorts every port whose inbound TCP the capture sends to the sidecar
 */
record PodWorkload(String service, OptionalInt appPort, List<Integer> inboundPorts, List<Integer> skipInboundPorts,
    List<Integer> skipOutboundPorts) {
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,55}[a-z0-9])?");
  private static final Set<Integer> SIDECAR_PORTS =
      Set.of(SidecarInjection.ADMIN_PORT, SidecarInjection.OUTBOUND_PORT, SidecarInjection.INBOUND_PORT);

  /** @throws IllegalArgumentException naming the annotation, label or port that cannot work */
  static PodWorkload of(Pod pod) {
    Map<String, String> annotations = orEmpty(pod.getMetadata().getAnnotations());
    String service = serviceName(pod, annotations);
    if (!DNS_LABEL.matcher(service).matches()) {
      throw new IllegalArgumentException("service name \"" + service + "\" (from " + serviceSource(pod, annotations)
          + ") is not a DNS label (lower case letters, digits and '-', at most 57 characters); set annotation "
          + SidecarInjector.SERVICE_ANNOTATION);
    }
    List<Integer> containerPorts = new ArrayList<>();
    Integer grpcPort = null;
    for (Container container : pod.getSpec().getContainers()) {
      for (ContainerPort port : container.getPorts() == null ? List.<ContainerPort>of() : container.getPorts()) {
        if (port.getContainerPort() == null || (port.getProtocol() != null && !"TCP".equals(port.getProtocol()))) {
          continue;
        }
        if (SIDECAR_PORTS.contains(port.getContainerPort())) {
          throw new IllegalArgumentException("container " + container.getName() + " port " + port.getContainerPort()
              + " is taken by the sidecar (15000 admin, 15001 outbound, 15006 inbound)");
        }
        containerPorts.add(port.getContainerPort());
        if (grpcPort == null && port.getName() != null && port.getName().startsWith("grpc")) {
          grpcPort = port.getContainerPort();
        }
      }
    }
    OptionalInt appPort = annotatedAppPort(annotations);
    if (appPort.isEmpty() && !containerPorts.isEmpty()) {
      appPort = OptionalInt.of(grpcPort != null ? grpcPort : containerPorts.get(0));
    }
    Set<Integer> inbound = new LinkedHashSet<>();
    appPort.ifPresent(inbound::add);
    inbound.addAll(containerPorts);
    return new PodWorkload(service, appPort, List.copyOf(inbound),
        SidecarInjector.portList(annotations, SidecarInjector.SKIP_INBOUND_PORTS_ANNOTATION),
        SidecarInjector.portList(annotations, SidecarInjector.SKIP_OUTBOUND_PORTS_ANNOTATION));
  }

  SidecarInjection.Capture capture() {
    return new SidecarInjection.Capture(inboundPorts, skipInboundPorts, skipOutboundPorts);
  }

  private static String serviceName(Pod pod, Map<String, String> annotations) {
    String annotated = annotations.get(SidecarInjector.SERVICE_ANNOTATION);
    if (annotated != null && !annotated.isBlank()) {
      return annotated.trim();
    }
    Map<String, String> labels = orEmpty(pod.getMetadata().getLabels());
    for (String label : List.of("app.kubernetes.io/name", "app")) {
      if (labels.get(label) != null && !labels.get(label).isBlank()) {
        return labels.get(label);
      }
    }
    Optional<OwnerReference> controller = pod.getMetadata().getOwnerReferences() == null ? Optional.empty()
        : pod.getMetadata().getOwnerReferences().stream().filter(o -> Boolean.TRUE.equals(o.getController())).findFirst();
    if (controller.isPresent()) {
      String owner = controller.get().getName();
      String hash = labels.get("pod-template-hash");
      return "ReplicaSet".equals(controller.get().getKind()) && hash != null && owner.endsWith("-" + hash)
          ? owner.substring(0, owner.length() - hash.length() - 1) : owner;
    }
    String name = pod.getMetadata().getName();
    if (name != null && !name.isBlank()) {
      return name;
    }
    String generated = pod.getMetadata().getGenerateName();
    return generated == null ? "" : generated.replaceAll("-+$", "");
  }

  private static String serviceSource(Pod pod, Map<String, String> annotations) {
    if (annotations.containsKey(SidecarInjector.SERVICE_ANNOTATION)) {
      return "annotation " + SidecarInjector.SERVICE_ANNOTATION;
    }
    Map<String, String> labels = orEmpty(pod.getMetadata().getLabels());
    return labels.containsKey("app.kubernetes.io/name") ? "label app.kubernetes.io/name"
        : labels.containsKey("app") ? "label app" : "the pod's owner or name";
  }

  private static OptionalInt annotatedAppPort(Map<String, String> annotations) {
    String text = annotations.get(SidecarInjector.APP_PORT_ANNOTATION);
    if (text == null || text.isBlank()) {
      return OptionalInt.empty();
    }
    int port;
    try {
      port = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("annotation " + SidecarInjector.APP_PORT_ANNOTATION + ": \"" + text
          + "\" is not a port number (1-65535)");
    }
    if (SIDECAR_PORTS.contains(port)) {
      throw new IllegalArgumentException("annotation " + SidecarInjector.APP_PORT_ANNOTATION + ": " + port
          + " is taken by the sidecar (15000 admin, 15001 outbound, 15006 inbound)");
    }
    return OptionalInt.of(port);
  }

  private static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }
}
