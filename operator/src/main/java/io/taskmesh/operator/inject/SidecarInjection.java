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
import io.taskmesh.config.IdentityConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
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
   * On a pod the webhook injected whose service has no ConfigMap {@code <service>-proxy}: the sidecar's config,
   * mounted as its config file by {@link #annotationConfigVolume()}.
   */
  public static final String PROXY_CONFIG_ANNOTATION = "taskmesh.io/proxy-config";
  /** The capture's init container: runs {@link #CAPTURE_SCRIPT} before every other container of the pod. */
  public static final String INIT_CONTAINER_NAME = "taskmesh-init";
  /** The proxy's fixed UID: the capture lets this UID's connections out untouched, so the proxy does not loop. */
  public static final long PROXY_UID = 2102L;
  /** The iptables script the init container runs verbatim ({@code /bin/sh -c}); its parameters are env vars. */
  public static final String CAPTURE_SCRIPT = resource("proxy-init.sh");

  /**
   * The proxy's requests and limits unless a TaskService or pod annotation says otherwise. Measured with
   * {@link #JAVA_OPTIONS} (bench/results/jit-choice.md): the proxy's peak RSS under unary load is ~113-119 MB and
   * it idles at ~80-86 MB without mTLS; with mTLS (BoringSSL, the certificate, TLS buffers) ~134-142 MB peak,
   * ~120 MB idle. The request covers the plaintext peak and the limit is 1.6x the mTLS one, so a burst is not an
   * OOM kill. The bench's SidecarFootprintTest fails the build when the proxy's peak outgrows three quarters of
   * this limit.
   */
  public static ResourceRequirements defaultResources() {
    return new ResourceRequirementsBuilder()
        .withRequests(new HashMap<>(Map.of("cpu", new Quantity("50m"), "memory", new Quantity("128Mi"))))
        .withLimits(new HashMap<>(Map.of("memory", new Quantity("224Mi"))))
        .build();
  }
  /**
   * A fixed heap rather than a share of the limit, so a higher limit is headroom rather than a larger heap:
   * 48 MiB keeps the measured throughput (32 MiB halved it); direct memory, metaspace and code cache are capped.
   * Tiered compilation with C2, one C1 and one C2 compiler thread ({@code CICompilerCount=2}) and a 24 MiB code
   * cache: against C1 only it took 28-39% off the CPU per request and raised the pair's throughput by ~1.5x, for
   * ~40 MB more peak RSS, C2's transient compiler arenas (bench/results/jit-choice.md).
   * Two processors as the JVM sees them ({@code ActiveProcessorCount=2}, as Istio's sidecar concurrency of 2):
   * a proxy without a CPU limit would otherwise size its event loops, buffer arenas, GC and compiler threads
   * to every core of the node.
   */
  public static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xmx48m -XX:MaxDirectMemorySize=32m -Xss256k "
      + "-XX:ReservedCodeCacheSize=24m -XX:CICompilerCount=2 -XX:MaxMetaspaceSize=64m -XX:ActiveProcessorCount=2 "
      + "-XX:+ExitOnOutOfMemoryError"
      + " " + ClassDataArchive.OPTIONS;

  /**
   * The proxy image's class-data-sharing archive (sidecar/Dockerfile trains it with the image's own java on the
   * image's jar, with {@link #JAVA_OPTIONS} but these flags): the proxy's classes come ready-parsed from one file, so
   * a sidecar reaches ready in about half the CPU time. {@code ArchiveRelocationMode=0} maps the archive at the base
   * address it was written for (relocating it only when that range is taken) instead of JDK 17's default of always
   * relocating, which rewrites its pointers into private pages of every sidecar: mapped unchanged, its ~17 MB are
   * page cache shared by every sidecar of a node (measured: 42 -> 28 MB private per sidecar with two running).
   * JDK 17 runs on without the file and says nothing when it is missing (then without the JDK's own archive either,
   * as an image older than the archive would); a stale one (another jar or JVM build) gets one
   * {@code [warning][cds,dynamic] Unable to use shared archive} line and the JDK's archive alone.
   */
  public static final class ClassDataArchive {
    public static final String PATH = "/app/taskmesh-proxy.jsa";
    public static final String OPTION = "-XX:SharedArchiveFile=" + PATH;
    /** {@link #OPTION} and how the archive is mapped: the piece of {@link #JAVA_OPTIONS} that is the archive's. */
    public static final String OPTIONS = OPTION + " -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0";

    private ClassDataArchive() {}

    /** {@code javaOptions} without {@link #OPTIONS}: the flags a training run writes the archive with. */
    public static String trainingOptions(String javaOptions) {
      return javaOptions.replace(OPTIONS, "").trim().replaceAll("\\s+", " ");
    }
  }

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
        // The app starts only once this probe passes, so it must not wait for the app (as /ready does): /healthz
        // answers once the proxy's listeners are bound and its config is loaded.
        .withNewStartupProbe()
          .withNewHttpGet().withPath("/healthz").withPort(new IntOrString(ADMIN_PORT)).endHttpGet()
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
          .withRunAsNonRoot(true).withRunAsUser(PROXY_UID).withRunAsGroup(PROXY_UID).withReadOnlyRootFilesystem(true)
          .withAllowPrivilegeEscalation(false)
          .withNewCapabilities().addToDrop("ALL").endCapabilities()
        .endSecurityContext()
        .build();
  }

  /** Whether {@code proxy} runs as {@link #PROXY_UID}, the UID whose connections the capture lets out. */
  public static boolean runsAsProxyUid(Container proxy) {
    return proxy.getSecurityContext() != null
        && Long.valueOf(PROXY_UID).equals(proxy.getSecurityContext().getRunAsUser());
  }

  /**
   * The init container that installs the pod's traffic capture (see {@code proxy-init.sh}): inbound TCP to
   * {@code capture.inboundPorts} to 15006, all other outbound TCP to 15001, except the proxy's UID, loopback,
   * the proxy's ports and the skip lists. It alone holds NET_ADMIN and NET_RAW, and runs as root because
   * iptables needs it; it exits before the app starts.
   */
  public static Container captureInit(String image, Capture capture) {
    return new ContainerBuilder()
        .withName(INIT_CONTAINER_NAME)
        .withImage(image)
        .withCommand("/bin/sh", "-c", CAPTURE_SCRIPT)
        .addToEnv(new EnvVar("TASKMESH_PROXY_UID", Long.toString(PROXY_UID), null))
        .addToEnv(new EnvVar("TASKMESH_INBOUND_LISTENER", Integer.toString(INBOUND_PORT), null))
        .addToEnv(new EnvVar("TASKMESH_OUTBOUND_LISTENER", Integer.toString(OUTBOUND_PORT), null))
        .addToEnv(new EnvVar("TASKMESH_PROXY_PORTS", ADMIN_PORT + "," + OUTBOUND_PORT + "," + INBOUND_PORT, null))
        .addToEnv(new EnvVar("TASKMESH_INBOUND_PORTS", ports(capture.inboundPorts()), null))
        .addToEnv(new EnvVar("TASKMESH_SKIP_INBOUND_PORTS", ports(capture.skipInboundPorts()), null))
        .addToEnv(new EnvVar("TASKMESH_SKIP_OUTBOUND_PORTS", ports(capture.skipOutboundPorts()), null))
        .withNewResources()
          .withRequests(Map.of("cpu", new Quantity("10m"), "memory", new Quantity("16Mi")))
          .withLimits(Map.of("memory", new Quantity("64Mi")))
        .endResources()
        .withNewSecurityContext()
          .withRunAsUser(0L).withRunAsNonRoot(false).withAllowPrivilegeEscalation(false).withPrivileged(false)
          // iptables takes its lock under /run
          .withReadOnlyRootFilesystem(false)
          .withNewCapabilities().addToAdd("NET_ADMIN", "NET_RAW").addToDrop("ALL").endCapabilities()
        .endSecurityContext()
        .build();
  }

  /** Which ports the capture takes in, and which it leaves alone in each direction. */
  public record Capture(List<Integer> inboundPorts, List<Integer> skipInboundPorts, List<Integer> skipOutboundPorts) {
    public Capture {
      inboundPorts = List.copyOf(inboundPorts);
      skipInboundPorts = List.copyOf(skipInboundPorts);
      skipOutboundPorts = List.copyOf(skipOutboundPorts);
    }

    public static Capture inbound(int... appPorts) {
      return new Capture(java.util.Arrays.stream(appPorts).boxed().toList(), List.of(), List.of());
    }
  }

  private static String ports(List<Integer> ports) {
    return ports.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  private static String resource(String name) {
    try (InputStream in = SidecarInjection.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name + " next to " + SidecarInjection.class.getName());
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The sidecar's config file, from the ConfigMap the operator renders (or the one named by the webhook). */
  public static Volume configVolume(String configMapName) {
    return new VolumeBuilder().withName(CONFIG_VOLUME)
        .withNewConfigMap().withName(configMapName).endConfigMap().build();
  }

  /** The sidecar's config file from the pod's own {@link #PROXY_CONFIG_ANNOTATION} (a downward API volume). */
  public static Volume annotationConfigVolume() {
    return new VolumeBuilder().withName(CONFIG_VOLUME)
        .withNewDownwardAPI()
          .addNewItem().withPath(CONFIG_FILE.substring(CONFIG_DIR.length() + 1))
            .withNewFieldRef().withFieldPath("metadata.annotations['" + PROXY_CONFIG_ANNOTATION + "']").endFieldRef()
          .endItem()
        .endDownwardAPI()
        .build();
  }

  /** Whether {@code spec} already runs the sidecar or its capture, as init containers or (hand-written) containers. */
  public static boolean isInjected(PodSpec spec) {
    return spec != null && Stream.concat(spec.getInitContainers().stream(), spec.getContainers().stream())
        .anyMatch(container -> CONTAINER_NAME.equals(container.getName())
            || INIT_CONTAINER_NAME.equals(container.getName()));
  }

  /**
   * On pods whose sidecar has a workload identity: discovery then announces the pod's SPIFFE ID for its endpoints
   * (callers reach it over mTLS), and the operator holds only these pods.
   */
  public static final String TLS_MODE_LABEL = "taskmesh.io/tls-mode";
  public static final String TLS_MODE_MTLS = "mtls";
  /** The projected ServiceAccount token the sidecar sends with its CSRs; the issuer reviews it for this audience. */
  public static final String TOKEN_AUDIENCE = "taskmesh";
  /** The kubelet renews a projected token at 80% of its life; the issuer reads it anew for each CSR. */
  static final long TOKEN_EXPIRATION_SECONDS = 3600;
  /** Per namespace, kept by the operator: the trust anchors under key {@link #TRUST_BUNDLE_KEY}. */
  public static final String TRUST_BUNDLE_CONFIGMAP = "taskmesh-trust-bundle";
  public static final String TRUST_BUNDLE_KEY = fileName(IdentityConfig.DEFAULT_TRUST_BUNDLE_PATH);
  static final String TOKEN_VOLUME = "taskmesh-token";
  static final String TRUST_VOLUME = "taskmesh-trust";

  /**
   * What the sidecar's workload identity reads, where its config's defaults expect them: the projected token at
   * {@code /var/run/secrets/taskmesh.io/token/token} and the trust bundle at
   * {@code /var/run/secrets/taskmesh.io/trust/ca.crt}.
   */
  public static List<Volume> identityVolumes() {
    return List.of(
        new VolumeBuilder().withName(TOKEN_VOLUME)
            .withNewProjected().addNewSource().withNewServiceAccountToken()
              .withAudience(TOKEN_AUDIENCE).withExpirationSeconds(TOKEN_EXPIRATION_SECONDS)
              .withPath(fileName(IdentityConfig.DEFAULT_TOKEN_PATH))
            .endServiceAccountToken().endSource().endProjected()
            .build(),
        new VolumeBuilder().withName(TRUST_VOLUME)
            .withNewConfigMap().withName(TRUST_BUNDLE_CONFIGMAP).endConfigMap()
            .build());
  }

  /** {@code proxy} with the mounts of {@link #identityVolumes()} (once: a container that has them is kept). */
  public static Container withIdentityMounts(Container proxy) {
    ContainerBuilder builder = new ContainerBuilder(proxy);
    for (String[] mount : new String[][] {{TOKEN_VOLUME, IdentityConfig.DEFAULT_TOKEN_PATH},
        {TRUST_VOLUME, IdentityConfig.DEFAULT_TRUST_BUNDLE_PATH}}) {
      if (proxy.getVolumeMounts().stream().noneMatch(existing -> mount[0].equals(existing.getName()))) {
        builder.addNewVolumeMount().withName(mount[0]).withMountPath(directory(mount[1])).withReadOnly(true)
            .endVolumeMount();
      }
    }
    return builder.build();
  }

  private static String fileName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static String directory(String path) {
    return path.substring(0, path.lastIndexOf('/'));
  }

  /** How the app finds its way out through the sidecar. */
  public static EnvVar outboundEnv() {
    return new EnvVar("TASKMESH_OUTBOUND", OUTBOUND, null);
  }
}
