package io.taskmesh.operator;

import io.taskmesh.operator.inject.SidecarIdentity;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the operator is told by its Deployment (see the Helm chart): images to inject (the proxy, and its
 * capture's init image), the pull secrets that go with them, and where sidecars find the discovery server.
 *
 * @param imagePullSecrets names of Secrets put on every pod the operator makes or injects (chart value
 *     {@code images.pullSecrets}); each must exist in the namespace of the pod that uses it
 * @param sidecarIdentity the workload identity and mTLS mode sidecars get ({@link SidecarIdentity#OFF}: none)
 */
public record OperatorSettings(String proxyImage, String proxyInitImage, String taskServiceImage,
    String discoveryAddress, List<String> imagePullSecrets, SidecarIdentity sidecarIdentity) {
  public OperatorSettings {
    imagePullSecrets = List.copyOf(imagePullSecrets);
    java.util.Objects.requireNonNull(sidecarIdentity, "sidecarIdentity");
  }

  /** Sidecars without a workload identity (plaintext). */
  public OperatorSettings(String proxyImage, String proxyInitImage, String taskServiceImage, String discoveryAddress,
      List<String> imagePullSecrets) {
    this(proxyImage, proxyInitImage, taskServiceImage, discoveryAddress, imagePullSecrets, SidecarIdentity.OFF);
  }

  public static final String VERSION = "0.1.0-SNAPSHOT";

  public static OperatorSettings fromEnvironment(Map<String, String> env) {
    return new OperatorSettings(
        env.getOrDefault("TASKMESH_PROXY_IMAGE", "taskmesh/taskmesh-proxy:" + VERSION),
        env.getOrDefault("TASKMESH_PROXY_INIT_IMAGE", "taskmesh/proxy-init:" + VERSION),
        env.getOrDefault("TASKMESH_TASK_SERVICE_IMAGE", "taskmesh/task-service:" + VERSION),
        env.getOrDefault("TASKMESH_DISCOVERY_ADDRESS", "taskmesh-operator.taskmesh-system.svc:15010"),
        Arrays.stream(env.getOrDefault("TASKMESH_IMAGE_PULL_SECRETS", "").split(","))
            .map(String::trim).filter(name -> !name.isEmpty()).toList(),
        SidecarIdentity.fromEnvironment(env));
  }
}
