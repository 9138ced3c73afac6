package io.taskmesh.operator;

import java.util.Map;

/**
 * What the operator is told by its Deployment (see the Helm chart): images to inject (the proxy, and its
 * capture's init image) and where sidecars find the discovery server.
 */
public record OperatorSettings(String proxyImage, String proxyInitImage, String taskServiceImage,
    String discoveryAddress) {
  public static final String VERSION = "0.1.0-SNAPSHOT";

  /**
   * This process's settings, read once from its environment. Dependent resources are made by JOSDK, so
   * they read this immutable value instead of being handed one.
   */
  public static final OperatorSettings CURRENT = fromEnvironment(System.getenv());

  public static OperatorSettings fromEnvironment(Map<String, String> env) {
    return new OperatorSettings(
        env.getOrDefault("TASKMESH_PROXY_IMAGE", "taskmesh/taskmesh-proxy:" + VERSION),
        env.getOrDefault("TASKMESH_PROXY_INIT_IMAGE", "taskmesh/proxy-init:" + VERSION),
        env.getOrDefault("TASKMESH_TASK_SERVICE_IMAGE", "taskmesh/task-service:" + VERSION),
        env.getOrDefault("TASKMESH_DISCOVERY_ADDRESS", "taskmesh-operator.taskmesh-system.svc:15010"));
  }
}
