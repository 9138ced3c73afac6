package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigJackson;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.dependent.ConfigMapDependent;
import io.taskmesh.operator.inject.SidecarIdentity;
import io.taskmesh.operator.inject.SidecarInjection;
import io.taskmesh.operator.inject.SidecarResources;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides, for one pod admission, whether the sidecar goes in, and answers with the JSONPatch that adds it.
 *
 * <p>A pod is injected when its namespace is labelled {@code taskmesh.io/injection=enabled} or it is
 * labelled (or annotated) {@code taskmesh.io/inject: "true"}; {@code "false"} always wins. Outside opted-in
 * namespaces the chart's webhook only sends pods with the label, so there the annotation alone is not seen. A pod that already runs
 * {@code taskmesh-proxy} (re-invocation, or the operator's own Deployments) is allowed unchanged.
 *
 * <p>Opting in is all a pod needs: its service name and ports come from the pod ({@link PodWorkload}), the
 * {@code taskmesh.io/service}, {@code taskmesh.io/app-port} and {@code taskmesh.io/skip-*-ports} annotations only
 * override. The sidecar's config is ConfigMap {@code <service>-proxy} when there is one (a TaskService's, or the
 * user's), whose {@code inbound.appPort} must then agree with the pod's gRPC port; otherwise every default,
 * carried in the pod's {@code taskmesh.io/proxy-config} annotation. The pod also gets the capture's init
 * container, so its traffic goes through the sidecar with no change to the app.
 *
 * <p>An opted-in pod that cannot be meshed is refused, naming what is wrong: a pod admitted without its sidecar,
 * or with a sidecar whose config cannot work, would look healthy and silently not be in the mesh. Controllers
 * retry pod creation, so fixing the annotation or the ConfigMap heals it.
 *
 * <p>Failure policy: the chart registers the entry for opted-in namespaces with {@code failurePolicy: Fail}
 * by default (a pod that asked for the mesh is not started outside it; the webhook answers within a second
 * even under slow clients, and the HA values run two replicas), and the entry for labelled pods elsewhere
 * with {@code Ignore}. Refusals made here apply under either policy.
 */
public final class SidecarInjector {
  public static final String NAMESPACE_LABEL = "taskmesh.io/injection";
  public static final String INJECT_ANNOTATION = "taskmesh.io/inject";
  public static final String APP_PORT_ANNOTATION = "taskmesh.io/app-port";
  public static final String SERVICE_ANNOTATION = "taskmesh.io/service";
  public static final String SKIP_INBOUND_PORTS_ANNOTATION = "taskmesh.io/skip-inbound-ports";
  public static final String SKIP_OUTBOUND_PORTS_ANNOTATION = "taskmesh.io/skip-outbound-ports";

  private final KubernetesClient client;
  private final OperatorSettings settings;
  private final NamespaceLabels namespaces;

  public SidecarInjector(KubernetesClient client, OperatorSettings settings, NamespaceLabels namespaces) {
    this.client = client;
    this.settings = settings;
    this.namespaces = namespaces;
  }

  public AdmissionResponse review(AdmissionRequest request) {
    AdmissionResponseBuilder response = new AdmissionResponseBuilder().withUid(request.getUid()).withAllowed(true);
    if (request.getKind() == null || !"Pod".equals(request.getKind().getKind()) || request.getObject() == null) {
      return response.build();
    }
    Pod pod = Serialization.jsonMapper().convertValue(request.getObject(), Pod.class);
    String namespace = request.getNamespace() != null ? request.getNamespace() : pod.getMetadata().getNamespace();
    Map<String, String> annotations = pod.getMetadata().getAnnotations() == null
        ? Map.of() : pod.getMetadata().getAnnotations();
    Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
    String labelSays = labels.get(INJECT_ANNOTATION);
    if (labelSays != null && !labelSays.equals("true") && !labelSays.equals("false")) {
      return deny(response, "label " + INJECT_ANNOTATION + ": \"" + labelSays + "\" must be \"true\" or \"false\"");
    }
    String annotationSays = annotations.get(INJECT_ANNOTATION);
    if (annotationSays != null && !annotationSays.equals("true") && !annotationSays.equals("false")) {
      return deny(response, "annotation " + INJECT_ANNOTATION + ": \"" + annotationSays
          + "\" must be \"true\" or \"false\"");
    }
    // the label is what the chart's webhook selects pods outside opted-in namespaces by; "false" wins either way
    String podSays = "false".equals(labelSays) || "false".equals(annotationSays) ? "false"
        : "true".equals(labelSays) || "true".equals(annotationSays) ? "true" : null;
    if ("false".equals(podSays) || SidecarInjection.isInjected(pod.getSpec())) {
      return response.build();
    }
    if (!"true".equals(podSays) && !"enabled".equals(namespaces.label(namespace, NAMESPACE_LABEL))) {
      return response.build();
    }

    ResourceRequirements resources;
    try {
      resources = SidecarResources.fromAnnotations(annotations);
    } catch (IllegalArgumentException e) {
      return deny(response, e.getMessage());
    }
    PodWorkload workload;
    try {
      workload = PodWorkload.of(pod);
    } catch (IllegalArgumentException e) {
      return deny(response, e.getMessage());
    }
    String configMapName = workload.service() + "-proxy";
    ConfigMap configMap = client.configMaps().inNamespace(namespace).withName(configMapName).get();
    Map<String, String> stamps = new LinkedHashMap<>();
    Volume configVolume;
    MeshConfig config;
    String hash;
    if (configMap == null) {
      // no config of its own: the defaults, for this pod, carried in an annotation the sidecar reads as a file
      config = defaultConfig(workload, namespace);
      stamps.put(SidecarInjection.PROXY_CONFIG_ANNOTATION, MeshConfigWriter.toYaml(config));
      configVolume = SidecarInjection.annotationConfigVolume();
      hash = MeshConfigWriter.hash(config);
    } else {
      String yaml = configMap.getData() == null ? null : configMap.getData().get(ConfigMapDependent.CONFIG_KEY);
      if (yaml == null) {
        return deny(response, "ConfigMap " + namespace + "/" + configMapName + " (of service " + workload.service()
            + ") has no " + ConfigMapDependent.CONFIG_KEY + ": the sidecar would have no config");
      }
      try {
        config = MeshConfigParser.parse(yaml);
      } catch (ConfigException e) {
        return deny(response, "ConfigMap " + namespace + "/" + configMapName + " " + ConfigMapDependent.CONFIG_KEY
            + " is invalid: " + e.getMessage());
      }
      if (workload.appPort().isPresent() && config.inbound().appPort() != workload.appPort().getAsInt()) {
        String source = annotations.containsKey(APP_PORT_ANNOTATION) ? "annotation " + APP_PORT_ANNOTATION
            : "the pod's gRPC port (set annotation " + APP_PORT_ANNOTATION + " to choose another)";
        return deny(response, source + ": " + workload.appPort().getAsInt() + " does not match inbound.appPort "
            + config.inbound().appPort() + " in ConfigMap " + namespace + "/" + configMapName);
      }
      SidecarIdentity identity = settings.sidecarIdentity();
      if (identity.enabled() && !config.identity().enabled()) {
        // discovery asks every sidecar for its workload certificate: without one this pod would be half-meshed
        return deny(response, "ConfigMap " + namespace + "/" + configMapName + " " + ConfigMapDependent.CONFIG_KEY
            + " has no identity section, but the mesh runs with identity on: add identity: {mode: "
            + identity.mode().name().toLowerCase(java.util.Locale.ROOT) + ", trustDomain: " + identity.trustDomain()
            + ", issuer: \"" + identity.issuerAddress() + "\"}");
      }
      configVolume = SidecarInjection.configVolume(configMapName);
      String annotated = configMap.getMetadata().getAnnotations() == null ? null
          : configMap.getMetadata().getAnnotations().get(ConfigMapDependent.HASH_ANNOTATION);
      hash = annotated != null ? annotated : MeshConfigWriter.hash(config);
    }
    stamps.put(SidecarInjection.INJECTED_ANNOTATION, "true");
    stamps.put(ConfigMapDependent.HASH_ANNOTATION, hash);
    String patch = PodPatch.inject(pod, settings, workload.capture(), configVolume, resources, stamps).toString();
    return response.withPatchType("JSONPatch")
        .withPatch(Base64.getEncoder().encodeToString(patch.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  /** The sidecar config of a pod whose service has no ConfigMap {@code <service>-proxy}: every default. */
  private MeshConfig defaultConfig(PodWorkload workload, String namespace) {
    ObjectNode root = Serialization.jsonMapper().createObjectNode();
    root.put("service", workload.service());
    root.put("namespace", namespace);
    workload.appPort().ifPresent(port -> root.putObject("inbound").put("appPort", port));
    root.putObject("outbound").putObject("discovery").put("address", settings.discoveryAddress());
    if (settings.sidecarIdentity().enabled()) {
      root.set("identity", Serialization.jsonMapper().valueToTree(settings.sidecarIdentity().configSection()));
    }
    return MeshConfigJackson.fromTree(root);
  }

  /** A comma-separated port list annotation ({@code "5432,6379"}); absent or blank is none. */
  static List<Integer> portList(Map<String, String> annotations, String annotation) {
    String text = annotations.get(annotation);
    if (text == null || text.isBlank()) {
      return List.of();
    }
    List<Integer> ports = new ArrayList<>();
    for (String item : text.split(",")) {
      int port;
      try {
        port = Integer.parseInt(item.trim());
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("annotation " + annotation + ": \"" + item.trim()
            + "\" is not a port number (1-65535); write ports separated by commas, e.g. \"5432,6379\"");
      }
      ports.add(port);
    }
    return List.copyOf(ports);
  }

  private static AdmissionResponse deny(AdmissionResponseBuilder response, String message) {
    return response.withAllowed(false).withStatus(new StatusBuilder().withCode(400).withReason("BadRequest")
        .withMessage("taskmesh sidecar injection: " + message).build()).build();
  }
}
