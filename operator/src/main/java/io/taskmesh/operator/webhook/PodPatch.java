package io.taskmesh.operator.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSONPatch (RFC 6902) that adds the sidecar to a pod: the same container, volume and environment
 * {@link SidecarInjection} gives the Deployment the operator owns. The API server serialises a pod without
 * empty lists and maps, so an empty one is added whole, and a present one is prepended or appended to.
 */
final class PodPatch {
  private static final ObjectMapper JSON = Serialization.jsonMapper();

  private PodPatch() {}

  /**
   * @param stamps annotations the injected pod gets ({@code taskmesh.io/injected}, the config hash, ...)
   *
   * <p>The operator's image pull secrets that the pod does not name already are added too.
   */
  static ArrayNode inject(Pod pod, OperatorSettings settings, SidecarInjection.Capture capture, Volume configVolume,
      ResourceRequirements resources, Map<String, String> stamps) {
    ArrayNode ops = JSON.createArrayNode();
    // the capture, then the sidecar, before the app's own init containers, so that those already call through the mesh
    List<Container> initContainers = pod.getSpec().getInitContainers();
    Container captureInit = SidecarInjection.captureInit(settings.proxyInitImage(), capture);
    Container proxy = SidecarInjection.container(settings.proxyImage(), resources);
    Container sidecar = settings.sidecarIdentity().enabled() ? SidecarInjection.withIdentityMounts(proxy) : proxy;
    if (initContainers == null || initContainers.isEmpty()) {
      add(ops, "/spec/initContainers", List.of(captureInit, sidecar));
    } else {
      add(ops, "/spec/initContainers/0", sidecar);
      add(ops, "/spec/initContainers/0", captureInit);
    }
    List<Volume> volumes = new ArrayList<>(pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes());
    List<Volume> added = new ArrayList<>(List.of(configVolume));
    if (settings.sidecarIdentity().enabled()) {
      added.addAll(SidecarInjection.identityVolumes());
    }
    for (Volume volume : added) {
      append(ops, "/spec/volumes", volumes, volume);
      volumes.add(volume);
    }
    List<LocalObjectReference> pullSecretsOfPod = new ArrayList<>(pod.getSpec().getImagePullSecrets());
    for (String name : settings.imagePullSecrets()) {
      if (pullSecretsOfPod.stream().noneMatch(secret -> name.equals(secret.getName()))) {
        append(ops, "/spec/imagePullSecrets", pullSecretsOfPod, new LocalObjectReference(name));
        pullSecretsOfPod.add(new LocalObjectReference(name));
      }
    }
    List<Container> containers = pod.getSpec().getContainers();
    for (int i = 0; i < containers.size(); i++) {
      List<EnvVar> env = containers.get(i).getEnv();
      boolean hasOutbound = env.stream().anyMatch(e -> SidecarInjection.outboundEnv().getName().equals(e.getName()));
      if (!hasOutbound) {
        append(ops, "/spec/containers/" + i + "/env", env, SidecarInjection.outboundEnv());
      }
    }
    if (settings.sidecarIdentity().enabled()) {
      Map<String, String> labels = pod.getMetadata().getLabels();
      if (labels == null || labels.isEmpty()) {
        add(ops, "/metadata/labels", Map.of(SidecarInjection.TLS_MODE_LABEL, SidecarInjection.TLS_MODE_MTLS));
      } else {
        add(ops, "/metadata/labels/" + escape(SidecarInjection.TLS_MODE_LABEL), SidecarInjection.TLS_MODE_MTLS);
      }
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    if (annotations == null || annotations.isEmpty()) {
      add(ops, "/metadata/annotations", stamps);
    } else {
      stamps.forEach((key, value) -> add(ops, "/metadata/annotations/" + escape(key), value));
    }
    return ops;
  }

  private static void append(ArrayNode ops, String path, List<?> current, Object item) {
    if (current == null || current.isEmpty()) {
      add(ops, path, List.of(item));
    } else {
      add(ops, path + "/-", item);
    }
  }

  private static void add(ArrayNode ops, String path, Object value) {
    ObjectNode op = ops.addObject();
    op.put("op", "add");
    op.put("path", path);
    op.set("value", JSON.valueToTree(value));
  }

  /** JSON Pointer (RFC 6901): {@code ~} and {@code /} inside a key. */
  static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }
}
