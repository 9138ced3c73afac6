package io.taskmesh.operator.reconciler;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.operator.dependent.Labels;
import io.taskmesh.operator.discovery.PodAcks;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/** How many sidecars of a service run each config hash. */
@FunctionalInterface
public interface SidecarCensus {

  /** @return config hash to count; a pod whose sidecar has not announced one yet counts under {@code ""} */
  Map<String, Long> configHashes(String namespace, String service);

  /** For an operator without a discovery server (tests): no sidecar reports. */
  static SidecarCensus none() {
    return (namespace, service) -> Map.of();
  }

  /**
   * Read from the service's live pods, where {@link PodAcks} records what each sidecar announced to whichever
   * operator replica its stream reached: correct with any number of replicas, and a pod gone is a sidecar gone.
   */
  static SidecarCensus fromPods(KubernetesClient client) {
    return (namespace, service) -> client.pods().inNamespace(namespace).withLabel(Labels.SERVICE_LABEL, service)
        .list().getItems().stream()
        .filter(SidecarCensus::live)
        .collect(Collectors.groupingBy(pod -> Objects.toString(pod.getMetadata().getAnnotations() == null ? null
            : pod.getMetadata().getAnnotations().get(PodAcks.APPLIED_ANNOTATION), ""), Collectors.counting()));
  }

  private static boolean live(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return pod.getMetadata().getDeletionTimestamp() == null && !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }
}
