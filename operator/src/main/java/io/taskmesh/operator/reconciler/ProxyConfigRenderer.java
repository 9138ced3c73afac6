package io.taskmesh.operator.reconciler;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigJackson;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.MeshSpec;
import io.taskmesh.operator.api.TaskService;

/**
 * Turns a TaskService into its sidecar's config: the CR's {@code spec.mesh} keys go where mesh-config
 * expects them, and mesh-config's parser validates them and fills in every default, so the operator
 * and the sidecar cannot disagree on what a key means.
 */
public final class ProxyConfigRenderer {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ProxyConfigRenderer() {}

  /** @throws ConfigException whose key is the CR's own path, e.g. {@code spec.mesh.retries.attempts} */
  public static MeshConfig render(TaskService service, OperatorSettings settings) {
    MeshSpec mesh = service.getSpec().mesh == null ? new MeshSpec() : service.getSpec().mesh;
    ObjectNode root = JSON.createObjectNode();
    root.put("service", service.getMetadata().getName());
    root.put("namespace", service.getMetadata().getNamespace());
    ObjectNode inbound = root.putObject("inbound");
    inbound.put("appPort", service.getSpec().portOrDefault());
    if (mesh.rateLimit != null) {
      inbound.set("rateLimit", JSON.valueToTree(mesh.rateLimit));
    }
    ObjectNode outbound = root.putObject("outbound");
    outbound.putObject("discovery").put("address", settings.discoveryAddress());
    ObjectNode defaults = outbound.putObject("defaults");
    putIfSet(defaults, "timeout", mesh.timeout);
    putIfSet(defaults, "retries", mesh.retries);
    putIfSet(defaults, "circuitBreaker", mesh.circuitBreaker);
    putIfSet(defaults, "outlierDetection", mesh.outlierDetection);
    putIfSet(defaults, "loadBalancer", mesh.loadBalancer);
    putIfSet(outbound, "upstreams", mesh.upstreams);
    putIfSet(root, "tracing", mesh.tracing);
    if (settings.sidecarIdentity().enabled()) {
      ObjectNode identity = JSON.valueToTree(settings.sidecarIdentity().configSection());
      root.set("identity", identity);
      if (mesh.mtls != null) {
        identity.put("mode", mesh.mtls.name());  // this service's own choice over the mesh-wide mode
      }
    } else if (mesh.mtls != null) {
      throw new ConfigException("spec.mesh.mtls", "is " + mesh.mtls + ", but the mesh runs without identity (no"
          + " certificates, no mTLS): turn it on with the chart value identity.enabled, or remove spec.mesh.mtls");
    }
    try {
      return MeshConfigJackson.fromTree(root);
    } catch (ConfigException e) {
      throw new ConfigException(crPath(e.key()), e.getMessage().substring(e.getMessage().indexOf(": ") + 2));
    }
  }

  private static void putIfSet(ObjectNode node, String key, Object value) {
    if (value != null) {
      node.set(key, JSON.valueToTree(value));
    }
  }

  /** mesh-config's key back to where the user wrote it in the TaskService. */
  static String crPath(String configKey) {
    if (configKey.startsWith("outbound.defaults.")) {
      return "spec.mesh." + configKey.substring("outbound.defaults.".length());
    }
    if (configKey.startsWith("outbound.upstreams.")) {
      return "spec.mesh.upstreams." + configKey.substring("outbound.upstreams.".length());
    }
    if (configKey.startsWith("inbound.rateLimit")) {
      return "spec.mesh.rateLimit" + configKey.substring("inbound.rateLimit".length());
    }
    if (configKey.startsWith("tracing")) {
      return "spec.mesh." + configKey;
    }
    if (configKey.equals("inbound.appPort")) {
      return "spec.port";
    }
    return "metadata.name (" + configKey + ")";
  }
}
