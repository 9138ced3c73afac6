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
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.dependent.ConfigMapDependent;
import io.taskmesh.operator.inject.SidecarInjection;
import io.taskmesh.operator.inject.SidecarResources;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides, for one pod admission, whether the sidecar goes in, and answers with the JSONPatch that adds it.
 *
 * <p>A pod is injected when its namespace is labelled {@code taskmesh.io/injection=enabled} or it is
 * labelled (or annotated) {@code taskmesh.io/inject: "true"}; {@code "false"} always wins. Outside opted-in
 * namespaces the chart's webhook only sends pods with the label, so there the annotation alone is not seen. A pod that already runs
 * {@code taskmesh-proxy} (re-invocation, or the operator's own Deployments) is allowed unchanged.
 *
 * <p>An opted-in pod whose annotations cannot work is refused, naming the annotation: a pod admitted
 * without its sidecar, or with a sidecar whose config file never appears, would look healthy and silently
 * not be in the mesh. Controllers retry pod creation, so fixing the annotation or the ConfigMap heals it.
 * The sidecar reads its ports from ConfigMap {@code <service>-proxy}, so {@code taskmesh.io/app-port} must
 * agree with that config's {@code inbound.appPort}.
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
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,55}[a-z0-9])?");
  private static final Set<Integer> SIDECAR_PORTS =
      Set.of(SidecarInjection.ADMIN_PORT, SidecarInjection.OUTBOUND_PORT, SidecarInjection.INBOUND_PORT);

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

    Optional<String> problem = annotationProblem(annotations);
    if (problem.isPresent()) {
      return deny(response, problem.get());
    }
    String service = annotations.get(SERVICE_ANNOTATION);
    int appPort = Integer.parseInt(annotations.get(APP_PORT_ANNOTATION).trim());
    ResourceRequirements resources;
    try {
      resources = SidecarResources.fromAnnotations(annotations);
    } catch (IllegalArgumentException e) {
      return deny(response, e.getMessage());
    }

    String configMapName = service + "-proxy";
    ConfigMap configMap = client.configMaps().inNamespace(namespace).withName(configMapName).get();
    String yaml = configMap == null || configMap.getData() == null ? null
        : configMap.getData().get(ConfigMapDependent.CONFIG_KEY);
    if (yaml == null) {
      return deny(response, "ConfigMap " + namespace + "/" + configMapName + " (from annotation " + SERVICE_ANNOTATION
          + ") has no " + ConfigMapDependent.CONFIG_KEY + ": the sidecar would have no config");
    }
    MeshConfig config;
    try {
      config = MeshConfigParser.parse(yaml);
    } catch (ConfigException e) {
      return deny(response, "ConfigMap " + namespace + "/" + configMapName + " " + ConfigMapDependent.CONFIG_KEY
          + " is invalid: " + e.getMessage());
    }
    if (config.inbound().appPort() != appPort) {
      return deny(response, "annotation " + APP_PORT_ANNOTATION + ": " + appPort + " does not match inbound.appPort "
          + config.inbound().appPort() + " in ConfigMap " + namespace + "/" + configMapName);
    }
    String hash = configMap.getMetadata().getAnnotations() == null ? null
        : configMap.getMetadata().getAnnotations().get(ConfigMapDependent.HASH_ANNOTATION);
    String patch = PodPatch.inject(pod, settings.proxyImage(), resources, configMapName,
        hash != null ? hash : MeshConfigWriter.hash(config), settings.imagePullSecrets()).toString();
    return response.withPatchType("JSONPatch")
        .withPatch(Base64.getEncoder().encodeToString(patch.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  /** What is wrong with the annotations an injected pod needs, if anything. */
  static Optional<String> annotationProblem(Map<String, String> annotations) {
    String service = annotations.get(SERVICE_ANNOTATION);
    if (service == null || service.isBlank()) {
      return Optional.of("annotation " + SERVICE_ANNOTATION + " is missing: name the mesh service whose ConfigMap "
          + "<service>-proxy holds this pod's sidecar config, or set " + INJECT_ANNOTATION + ": \"false\"");
    }
    if (!DNS_LABEL.matcher(service).matches()) {
      return Optional.of("annotation " + SERVICE_ANNOTATION + ": \"" + service
          + "\" is not a DNS label (lower case letters, digits and '-', at most 57 characters)");
    }
    String portText = annotations.get(APP_PORT_ANNOTATION);
    if (portText == null || portText.isBlank()) {
      return Optional.of("annotation " + APP_PORT_ANNOTATION + " is missing: set it to the port the app listens on, "
          + "or set " + INJECT_ANNOTATION + ": \"false\"");
    }
    int appPort;
    try {
      appPort = Integer.parseInt(portText.trim());
    } catch (NumberFormatException e) {
      appPort = -1;
    }
    if (appPort < 1 || appPort > 65535) {
      return Optional.of("annotation " + APP_PORT_ANNOTATION + ": \"" + portText + "\" is not a port number (1-65535)");
    }
    if (SIDECAR_PORTS.contains(appPort)) {
      return Optional.of("annotation " + APP_PORT_ANNOTATION + ": " + appPort + " is taken by the sidecar "
          + "(15000 admin, 15001 outbound, 15006 inbound)");
    }
    return Optional.empty();
  }

  private static AdmissionResponse deny(AdmissionResponseBuilder response, String message) {
    return response.withAllowed(false).withStatus(new StatusBuilder().withCode(400).withReason("BadRequest")
        .withMessage("taskmesh sidecar injection: " + message).build()).build();
  }
}
