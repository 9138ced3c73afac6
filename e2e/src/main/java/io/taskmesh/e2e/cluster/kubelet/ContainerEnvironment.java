package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.e2e.cluster.ClusterAccess;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A container's environment as the kubelet builds it: service links for the namespace's Services
 * (unless {@code enableServiceLinks: false}), the API server's {@code KUBERNETES_SERVICE_*}, then
 * {@code envFrom}, then {@code env} with the downward API, ConfigMap/Secret keys and {@code $(VAR)}
 * references to variables defined before.
 */
final class ContainerEnvironment {
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private final KubernetesClient api;
  private final ClusterAccess access;
  private final String nodeName;

  ContainerEnvironment(KubernetesClient api, ClusterAccess access, String nodeName) {
    this.api = api;
    this.access = access;
    this.nodeName = nodeName;
  }

  ClusterAccess access() {
    return access;
  }

  Map<String, String> of(Pod pod, Container container, String podIp, String hostIp, boolean root) {
    String namespace = pod.getMetadata().getNamespace();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", DEFAULT_PATH);
    env.put("HOSTNAME", pod.getMetadata().getName());
    env.put("HOME", root ? "/root" : "/");
    if (!Boolean.FALSE.equals(pod.getSpec().getEnableServiceLinks())) {
      for (Service service : api.services().inNamespace(namespace).list().getItems()) {
        serviceLinks(service, env);
      }
    }
    env.put("KUBERNETES_SERVICE_HOST", access.host());
    env.put("KUBERNETES_SERVICE_PORT", Integer.toString(access.port()));
    env.put("KUBERNETES_SERVICE_PORT_HTTPS", Integer.toString(access.port()));
    for (EnvFromSource from : container.getEnvFrom()) {
      String prefix = from.getPrefix() == null ? "" : from.getPrefix();
      if (from.getConfigMapRef() != null) {
        ConfigMap map = api.configMaps().inNamespace(namespace).withName(from.getConfigMapRef().getName()).get();
        if (map == null && !Boolean.TRUE.equals(from.getConfigMapRef().getOptional())) {
          throw new IllegalStateException("configmap " + namespace + "/" + from.getConfigMapRef().getName()
              + " (envFrom of container " + container.getName() + ") not found");
        }
        if (map != null && map.getData() != null) {
          map.getData().forEach((key, value) -> env.put(prefix + key, value));
        }
      }
      if (from.getSecretRef() != null) {
        Secret secret = api.secrets().inNamespace(namespace).withName(from.getSecretRef().getName()).get();
        if (secret == null && !Boolean.TRUE.equals(from.getSecretRef().getOptional())) {
          throw new IllegalStateException("secret " + namespace + "/" + from.getSecretRef().getName()
              + " (envFrom of container " + container.getName() + ") not found");
        }
        if (secret != null) {
          secretData(secret).forEach((key, value) -> env.put(prefix + key, new String(value, StandardCharsets.UTF_8)));
        }
      }
    }
    for (EnvVar variable : container.getEnv()) {
      String value = variable.getValueFrom() == null
          ? EnvExpansion.expand(variable.getValue() == null ? "" : variable.getValue(), env)
          : valueFrom(pod, container, variable.getName(), variable.getValueFrom(), podIp, hostIp);
      if (value != null) {
        env.put(variable.getName(), value);
      }
    }
    return env;
  }

  private String valueFrom(Pod pod, Container container, String name, EnvVarSource source, String podIp,
      String hostIp) {
    String namespace = pod.getMetadata().getNamespace();
    if (source.getFieldRef() != null) {
      return field(pod, source.getFieldRef().getFieldPath(), podIp, hostIp, nodeName);
    }
    if (source.getResourceFieldRef() != null) {
      return resource(pod, container, source.getResourceFieldRef());
    }
    if (source.getConfigMapKeyRef() != null) {
      var ref = source.getConfigMapKeyRef();
      ConfigMap map = api.configMaps().inNamespace(namespace).withName(ref.getName()).get();
      String value = map == null || map.getData() == null ? null : map.getData().get(ref.getKey());
      if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
        throw new IllegalStateException("env " + name + " of container " + container.getName() + ": key " + ref.getKey()
            + " of configmap " + namespace + "/" + ref.getName() + " not found");
      }
      return value;
    }
    if (source.getSecretKeyRef() != null) {
      var ref = source.getSecretKeyRef();
      Secret secret = api.secrets().inNamespace(namespace).withName(ref.getName()).get();
      byte[] value = secret == null ? null : secretData(secret).get(ref.getKey());
      if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
        throw new IllegalStateException("env " + name + " of container " + container.getName() + ": key " + ref.getKey()
            + " of secret " + namespace + "/" + ref.getName() + " not found");
      }
      return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }
    throw new IllegalArgumentException("env " + name + " of container " + container.getName() + " has an empty valueFrom");
  }

  /** The downward API's fieldRef paths. */
  static String field(Pod pod, String path, String podIp, String hostIp, String nodeName) {
    var metadata = pod.getMetadata();
    if (path.startsWith("metadata.labels['") && path.endsWith("']")) {
      return metadata.getLabels() == null ? "" : metadata.getLabels().getOrDefault(path.substring(17, path.length() - 2), "");
    }
    if (path.startsWith("metadata.annotations['") && path.endsWith("']")) {
      return metadata.getAnnotations() == null ? ""
          : metadata.getAnnotations().getOrDefault(path.substring(22, path.length() - 2), "");
    }
    return switch (path) {
      case "metadata.name" -> metadata.getName();
      case "metadata.namespace" -> metadata.getNamespace();
      case "metadata.uid" -> metadata.getUid();
      case "spec.nodeName" -> pod.getSpec().getNodeName() == null ? nodeName : pod.getSpec().getNodeName();
      case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName() == null ? "default"
          : pod.getSpec().getServiceAccountName();
      case "status.podIP", "status.podIPs" -> podIp;
      case "status.hostIP", "status.hostIPs" -> hostIp;
      default -> throw new IllegalArgumentException("fieldRef " + path + " is not a downward API field");
    };
  }

  /** limits/requests of cpu and memory; a missing limit reads as this node's capacity, as in Kubernetes. */
  static String resource(Pod pod, Container container, io.fabric8.kubernetes.api.model.ResourceFieldSelector ref) {
    String targetName = ref.getContainerName() == null || ref.getContainerName().isEmpty()
        ? container.getName() : ref.getContainerName();
    Container target = pod.getSpec().getContainers().stream()
        .filter(c -> c.getName().equals(targetName)).findFirst().orElse(container);
    String[] parts = ref.getResource().split("\\.", 2);
    if (parts.length != 2 || !List.of("limits", "requests").contains(parts[0])
        || !List.of("cpu", "memory").contains(parts[1])) {
      throw new IllegalArgumentException("resourceFieldRef " + ref.getResource() + " is not limits/requests.cpu/memory");
    }
    var resources = target.getResources();
    Map<String, Quantity> values = resources == null ? null
        : parts[0].equals("limits") ? resources.getLimits() : resources.getRequests();
    Quantity quantity = values == null ? null : values.get(parts[1]);
    if (quantity == null && parts[0].equals("requests") && resources != null && resources.getLimits() != null) {
      quantity = resources.getLimits().get(parts[1]);
    }
    BigDecimal amount = quantity != null ? Quantity.getAmountInBytes(quantity)
        : parts[0].equals("requests") ? BigDecimal.ZERO
        : parts[1].equals("cpu") ? BigDecimal.valueOf(Runtime.getRuntime().availableProcessors())
        : BigDecimal.valueOf(nodeMemoryBytes());
    BigDecimal divisor = ref.getDivisor() == null ? BigDecimal.ONE : Quantity.getAmountInBytes(ref.getDivisor());
    return amount.divide(divisor, 0, RoundingMode.CEILING).toPlainString();
  }

  private static long nodeMemoryBytes() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : Runtime.getRuntime().maxMemory();
  }

  /** Docker-link variables for one Service, as {@code enableServiceLinks} adds them. */
  static void serviceLinks(Service service, Map<String, String> env) {
    String clusterIp = service.getSpec().getClusterIP();
    List<ServicePort> ports = service.getSpec().getPorts();
    if (clusterIp == null || clusterIp.isEmpty() || "None".equals(clusterIp) || ports.isEmpty()) {
      return;
    }
    String name = service.getMetadata().getName().toUpperCase(Locale.ROOT).replace('-', '_');
    ServicePort first = ports.get(0);
    env.put(name + "_SERVICE_HOST", clusterIp);
    env.put(name + "_SERVICE_PORT", first.getPort().toString());
    env.put(name + "_PORT", protocol(first) + "://" + clusterIp + ":" + first.getPort());
    for (ServicePort port : ports) {
      if (port.getName() != null && !port.getName().isEmpty()) {
        env.put(name + "_SERVICE_PORT_" + port.getName().toUpperCase(Locale.ROOT).replace('-', '_'),
            port.getPort().toString());
      }
      String prefix = name + "_PORT_" + port.getPort() + "_" + protocol(port).toUpperCase(Locale.ROOT);
      env.put(prefix, protocol(port) + "://" + clusterIp + ":" + port.getPort());
      env.put(prefix + "_PROTO", protocol(port));
      env.put(prefix + "_PORT", port.getPort().toString());
      env.put(prefix + "_ADDR", clusterIp);
    }
  }

  private static String protocol(ServicePort port) {
    return port.getProtocol() == null ? "tcp" : port.getProtocol().toLowerCase(Locale.ROOT);
  }

  static Map<String, byte[]> secretData(Secret secret) {
    Map<String, byte[]> data = new LinkedHashMap<>();
    if (secret.getData() != null) {
      secret.getData().forEach((key, value) -> data.put(key, Base64.getDecoder().decode(value)));
    }
    if (secret.getStringData() != null) {
      secret.getStringData().forEach((key, value) -> data.put(key, value.getBytes(StandardCharsets.UTF_8)));
    }
    return data;
  }
}
