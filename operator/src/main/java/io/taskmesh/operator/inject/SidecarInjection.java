package io.taskmesh.operator.inject;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The sidecar as Kubernetes runs it: a native sidecar (an init container with restartPolicy Always and a
 * startup probe on /ready), so it is ready before the app starts and stops after it. One builder for the
 * Deployment the operator owns and for pods injected by the webhook.
 */
public final class SidecarInjection {
  public static final String CONTAINER_NAME = "taskmesh-proxy";
  public static final String CONFIG_VOLUME = "taskmesh-config";
  public static final String CONFIG_DIR = "/etc/taskmesh";
  public static final String CONFIG_FILE = CONFIG_DIR + "/proxy.yaml";
  public static final String OUTBOUND = "127.0.0.1:15001";
  public static final int INBOUND_PORT = 15006;
  public static final int ADMIN_PORT = 15000;
  public static final int OUTBOUND_PORT = 15001;
  /** Stamped on pods the webhook injected, next to {@code taskmesh.io/config-hash}. */
  public static final String INJECTED_ANNOTATION = "taskmesh.io/injected";

  /**
   * The proxy's requests and limits unless a TaskService or pod annotation says otherwise. Measured: the
   * proxy's RSS reaches ~153-156 MB under unary load with the JVM flags below (heap 28 MB of it, ~52 MB class
   * metadata, 16 MB code cache, ~28 MB C heap) and idles at 112-126 MB; the request is that footprint and the
   * limit leaves ~70% above the loaded figure, so a burst is not an OOM kill (128Mi, the old limit, was below it).
   */
  public static ResourceRequirements defaultResources() {
    return new ResourceRequirementsBuilder()
        .withRequests(new HashMap<>(Map.of("cpu", new Quantity("50m"), "memory", new Quantity("160Mi"))))
        .withLimits(new HashMap<>(Map.of("memory", new Quantity("256Mi"))))
        .build();
  }
  /**
   * A fixed heap rather than a share of the limit, so a higher limit is headroom rather than a larger heap:
   * 48 MiB keeps the measured throughput (32 MiB halved it), direct memory and code cache are capped.
   */
  static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xmx48m -XX:MaxDirectMemorySize=32m -Xss256k "
      + "-XX:ReservedCodeCacheSize=32m -XX:+ExitOnOutOfMemoryError";

  private SidecarInjection() {}

  /** {@code resources}, or {@link #defaultResources()} when it is null. */
  public static ResourceRequirements resourcesOr(ResourceRequirements resources) {
    return resources == null ? defaultResources() : resources;
  }

  public static Container container(String image, ResourceRequirements resources) {
    return new ContainerBuilder()
        .withName(CONTAINER_NAME)
        .withImage(image)
        .withRestartPolicy("Always")
        .addNewPort().withName("mesh-inbound").withContainerPort(INBOUND_PORT).endPort()
        .addNewPort().withName("mesh-admin").withContainerPort(ADMIN_PORT).endPort()
        .addToEnv(new EnvVar("TASKMESH_CONFIG", CONFIG_FILE, null))
        .addToEnv(new EnvVarBuilder().withName("POD_NAME")
            .withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().build())
        .addToEnv(new EnvVar("JAVA_TOOL_OPTIONS", JAVA_OPTIONS, null))
        .addNewVolumeMount().withName(CONFIG_VOLUME).withMountPath(CONFIG_DIR).withReadOnly(true).endVolumeMount()
        .withNewStartupProbe()
          .withNewHttpGet().withPath("/ready").withPort(new IntOrString(ADMIN_PORT)).endHttpGet()
          .withPeriodSeconds(1).withFailureThreshold(120)
        .endStartupProbe()
        .withNewReadinessProbe()
          .withNewHttpGet().withPath("/ready").withPort(new IntOrString(ADMIN_PORT)).endHttpGet()
          .withPeriodSeconds(5)
        .endReadinessProbe()
        .withNewLivenessProbe()
          .withNewHttpGet().withPath("/healthz").withPort(new IntOrString(ADMIN_PORT)).endHttpGet()
          .withPeriodSeconds(10)
        .endLivenessProbe()
        .withResources(resources)
        .withNewSecurityContext()
          .withRunAsNonRoot(true).withRunAsUser(65532L).withReadOnlyRootFilesystem(true)
          .withAllowPrivilegeEscalation(false)
          .withNewCapabilities().addToDrop("ALL").endCapabilities()
        .endSecurityContext()
        .build();
  }

  /** The sidecar's config file, from the ConfigMap the operator renders (or the one named by the webhook). */
  public static Volume configVolume(String configMapName) {
    return new VolumeBuilder().withName(CONFIG_VOLUME)
        .withNewConfigMap().withName(configMapName).endConfigMap().build();
  }

  /** Whether {@code spec} already runs the sidecar, as an init container or (hand-written) as a container. */
  public static boolean isInjected(PodSpec spec) {
    return spec != null && Stream.concat(spec.getInitContainers().stream(), spec.getContainers().stream())
        .anyMatch(container -> CONTAINER_NAME.equals(container.getName()));
  }

  /** How the app finds its way out through the sidecar. */
  public static EnvVar outboundEnv() {
    return new EnvVar("TASKMESH_OUTBOUND", OUTBOUND, null);
  }
}
