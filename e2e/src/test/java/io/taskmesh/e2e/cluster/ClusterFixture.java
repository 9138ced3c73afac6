package io.taskmesh.e2e.cluster;

import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.taskmesh.e2e.cluster.install.TaskmeshInstall;
import io.taskmesh.e2e.cluster.kubelet.ClusterNameInUseException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** A local cluster for a test class: started (root only, skipped otherwise), the chart installed, then closed. */
final class ClusterFixture implements AutoCloseable {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  final LocalCluster cluster;

  private ClusterFixture(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /**
   * Skips the test unless the cluster can run here (root, iproute2, iptables). The cluster is named
   * {@code name}, or {@code name2}..{@code name9} when another run (another worktree's) holds it, so the same
   * class can run in two places at once; a crashed run's leftovers go when its name is next taken.
   */
  static ClusterFixture start(String name, boolean zipkin) throws Exception {
    Optional<String> unavailable = LocalCluster.unavailableReason();
    assumeThat(unavailable).as("the local cluster needs root: %s", unavailable.orElse("")).isEmpty();
    for (int suffix = 1; ; suffix++) {
      try {
        return startNamed(suffix == 1 ? name : name + suffix, zipkin);
      } catch (ClusterNameInUseException e) {
        if (suffix == 9) {
          throw e;
        }
      }
    }
  }

  private static ClusterFixture startNamed(String name, boolean zipkin) throws Exception {
    // under target/, not /tmp: a pod's emptyDir mounted at /tmp would hide the kubelet's own files under /tmp
    Path work = Path.of("target", "clusters", name).toAbsolutePath();
    if (Files.exists(work)) {
      try (Stream<Path> files = Files.walk(work)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
    Files.createDirectories(work);
    Optional<Path> zipkinJar = zipkin ? Optional.of(Path.of(System.getProperty("taskmesh.zipkin.jar"))) : Optional.empty();
    return new ClusterFixture(LocalCluster.start(new LocalCluster.Settings(name, 0, work, zipkinJar)));
  }

  KubernetesClient api() {
    return cluster.client();
  }

  GenericKubernetesResource taskService(String namespace, String name) {
    return api().genericKubernetesResources(TaskmeshInstall.TASK_SERVICE_API_VERSION, "TaskService")
        .inNamespace(namespace).withName(name).get();
  }

  /** The TaskService's status, empty before the operator first wrote one. */
  @SuppressWarnings("unchecked")
  Map<String, Object> status(String namespace, String name) {
    GenericKubernetesResource taskService = taskService(namespace, name);
    Object status = taskService == null ? null : taskService.getAdditionalProperties().get("status");
    return status == null ? Map.of() : (Map<String, Object>) status;
  }

  /**
   * Creates an opted-in pod and returns it as admitted, meshed. Under load the webhook can miss its timeout, and
   * failurePolicy Ignore then admits the pod unmeshed, as a cluster would: such a pod is removed and created
   * again, as its controller would, until the webhook has answered.
   */
  Pod createInjected(Pod pod) {
    return await("a pod the webhook answered for").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
        .until(() -> createOrRemove(pod), created -> created != null);
  }

  /** Creates the pod; one the webhook did not mesh (it timed out) is deleted and {@code null} returned. */
  Pod createOrRemove(Pod pod) {
    String namespace = pod.getMetadata().getNamespace() == null ? "default" : pod.getMetadata().getNamespace();
    Pod created = api().pods().inNamespace(namespace).resource(pod).create();
    if (created.getMetadata().getAnnotations() != null
        && created.getMetadata().getAnnotations().containsKey("taskmesh.io/injected")) {
      return created;
    }
    api().pods().inNamespace(namespace).withName(pod.getMetadata().getName()).withGracePeriod(0).delete();
    await().atMost(Duration.ofMinutes(1))
        .until(() -> api().pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get() == null);
    return null;
  }

  static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  /** One line per pod: name, phase, each container's state and restarts, for failure messages. */
  static String describe(List<Pod> pods) {
    return pods.stream().map(pod -> pod.getMetadata().getName() + " " + (pod.getStatus() == null ? "?"
        : pod.getStatus().getPhase() + " " + containerStatuses(pod)
            .map(ClusterFixture::describe).collect(Collectors.joining(", "))))
        .collect(Collectors.joining("; "));
  }

  /** The pod's init (native sidecars included) and app containers' statuses, in that order. */
  private static Stream<ContainerStatus> containerStatuses(Pod pod) {
    return Stream.ofNullable(pod.getStatus()).flatMap(status -> Stream.concat(
        Stream.ofNullable(status.getInitContainerStatuses()).flatMap(List::stream),
        Stream.ofNullable(status.getContainerStatuses()).flatMap(List::stream)));
  }

  /**
   * {@link #describe(List)}, and for each running container that is not ready the last lines of its log: a
   * readiness that never comes says why in the failure message.
   */
  String describeWithLogs(List<Pod> pods) {
    StringBuilder text = new StringBuilder(describe(pods));
    for (Pod pod : pods) {
      containerStatuses(pod)
          .filter(status -> status.getState() != null && status.getState().getRunning() != null
              && !Boolean.TRUE.equals(status.getReady()))
          .forEach(status -> text.append("\n--- ").append(pod.getMetadata().getName()).append('/')
              .append(status.getName()).append(", last log lines:\n").append(lastLogLines(pod, status.getName())));
    }
    return text.toString();
  }

  private String lastLogLines(Pod pod, String container) {
    Optional<Path> log = cluster.kubelet().logFile(pod.getMetadata().getNamespace(), pod.getMetadata().getName(),
        container);
    try {
      List<String> lines = log.isPresent() && Files.exists(log.get()) ? Files.readAllLines(log.get()) : List.of();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return "(cannot read " + log.orElse(null) + ": " + e + ")";
    }
  }

  private static String describe(ContainerStatus status) {
    String state = status.getState() == null ? "?" : status.getState().getRunning() != null ? "running"
        : status.getState().getWaiting() != null ? "waiting(" + status.getState().getWaiting().getReason() + ")"
        : "terminated(" + status.getState().getTerminated().getExitCode() + ")";
    return status.getName() + "=" + state + (Boolean.TRUE.equals(status.getReady()) ? "/ready" : "")
        + " restarts=" + status.getRestartCount();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
