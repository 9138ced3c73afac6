package io.taskmesh.operator.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.taskmesh.operator.dependent.ConfigMapDependent;
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

  /** @param pullSecrets the operator's image pull secrets; those the pod does not name already are added */
  static ArrayNode inject(Pod pod, String proxyImage, ResourceRequirements resources, String configMapName,
      String configHash, List<String> pullSecrets) {
    ArrayNode ops = JSON.createArrayNode();
    // first, so that the app's own init containers can already call through the mesh
    insertFirst(ops, "/spec/initContainers", pod.getSpec().getInitContainers(), SidecarInjection.container(proxyImage, resources));
    append(ops, "/spec/volumes", pod.getSpec().getVolumes(), SidecarInjection.configVolume(configMapName));
    List<LocalObjectReference> pullSecretsOfPod = new ArrayList<>(pod.getSpec().getImagePullSecrets());
    for (String name : pullSecrets) {
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
    Map<String, String> stamps = Map.of(SidecarInjection.INJECTED_ANNOTATION, "true",
        ConfigMapDependent.HASH_ANNOTATION, configHash);
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    if (annotations == null || annotations.isEmpty()) {
      add(ops, "/metadata/annotations", stamps);
    } else {
      stamps.forEach((key, value) -> add(ops, "/metadata/annotations/" + escape(key), value));
    }
    return ops;
  }

  private static void insertFirst(ArrayNode ops, String path, List<?> current, Object item) {
    if (current == null || current.isEmpty()) {
      add(ops, path, List.of(item));
    } else {
      add(ops, path + "/0", item);
    }
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
