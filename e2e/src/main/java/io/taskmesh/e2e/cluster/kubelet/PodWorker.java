package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.taskmesh.e2e.cluster.ClusterAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pod on this node, from sandbox to teardown, as the kubelet's pod worker runs it: network
 * namespace and volumes, init containers in order (each to completion; a native sidecar until its
 * startup probe passes), then the app containers; on deletion the apps get SIGTERM and their grace
 * period, then the sidecars in reverse order, then the sandbox goes.
 */
final class PodWorker {
  private static final Logger log = LoggerFactory.getLogger(PodWorker.class);
  /** The image user of the project's Jib images (parent pom, {@code container.user}). */
  static final long IMAGE_USER = 65532;
  private static final Duration MINIMUM_GRACE = Duration.ofSeconds(2);

  private final Pod pod;
  private final NodeContext node;
  private final Path directory;
  private final Instant startTime = Instant.now();
  private final CompletableFuture<Termination> termination = new CompletableFuture<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Map<String, ContainerRunner> initRunners = Collections.synchronizedMap(new LinkedHashMap<>());
  private final Map<String, ContainerRunner> appRunners = Collections.synchronizedMap(new LinkedHashMap<>());
  private final Map<String, PodCondition> conditions = new LinkedHashMap<>();

  private volatile PodSandbox sandbox;
  private volatile PodVolumes volumes;
  private volatile boolean initialized;
  private volatile boolean failed;
  private volatile String message;

  /** How the pod is to stop: its grace period, and whether the kubelet then removes the object. */
  record Termination(Duration grace, boolean removeObject) {}

  PodWorker(Pod pod, NodeContext node) {
    this.pod = pod;
    this.node = node;
    this.directory = node.workDir().resolve("pods")
        .resolve(pod.getMetadata().getNamespace() + "_" + pod.getMetadata().getName() + "_" + pod.getMetadata().getUid());
  }

  Pod pod() {
    return pod;
  }

  String namespace() {
    return pod.getMetadata().getNamespace();
  }

  String name() {
    return pod.getMetadata().getName();
  }

  String uid() {
    return pod.getMetadata().getUid();
  }

  void start() {
    Thread thread = new Thread(this::run, "pod-" + namespace() + "/" + name());
    thread.setDaemon(true);
    thread.start();
  }

  /** Asks the pod to stop; the first request wins, as the first deletion does. */
  void terminate(Termination how) {
    termination.complete(how);
  }

  boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  String netns() {
    PodSandbox current = sandbox;
    return current == null ? null : current.netns();
  }

  /** The pod's IP once its sandbox exists. */
  String podIp() {
    PodSandbox current = sandbox;
    return current == null ? null : current.ip().getHostAddress();
  }

  /** The container's runner, for tests and error messages. */
  ContainerRunner container(String name) {
    ContainerRunner runner = appRunners.get(name);
    return runner != null ? runner : initRunners.get(name);
  }

  List<ContainerRunner> containers() {
    List<ContainerRunner> all = new ArrayList<>(initRunners.values());
    all.addAll(appRunners.values());
    return all;
  }

  /** Rewrites the pod's /etc/hosts from the Services now known. */
  void refreshHosts() {
    PodSandbox current = sandbox;
    if (current != null) {
      current.writeHosts(ServiceHosts.render(namespace(), name(), podIp(), node.services().get()));
    }
  }

  /** The pod object changed (labels, annotations): its downward API volumes are rewritten. */
  void podChanged(Pod newer) {
    PodVolumes current = volumes;
    if (current != null) {
      try {
        current.podChanged(newer);
      } catch (RuntimeException e) {
        log.warn("event=volume_refresh_failed pod={}/{} error={}", namespace(), name(), e.getMessage());
      }
    }
  }

  /** Re-projects ConfigMap/Secret volumes after a change to one of them. */
  void refreshVolumes() {
    PodVolumes current = volumes;
    if (current != null) {
      try {
        current.refresh();
      } catch (RuntimeException e) {
        log.warn("event=volume_refresh_failed pod={}/{} error={}", namespace(), name(), e.getMessage());
      }
    }
  }

  private void run() {
    try {
      sandbox = node.network().createSandbox();
      sandbox.writeResolver();
      refreshHosts();
      volumes = new PodVolumes(node.api(), nodeAccess(), pod, directory.resolve("volumes"));
      createRunners();
      changed();
      if (prepareVolumes() && runInitContainers()) {
        initialized = true;
        String policy = pod.getSpec().getRestartPolicy() == null ? "Always" : pod.getSpec().getRestartPolicy();
        appRunners.values().forEach(runner -> runner.supervise(policy));
        changed();
      }
    } catch (RuntimeException e) {
      log.warn("event=pod_start_failed pod={}/{} error={}", namespace(), name(), e.toString());
      message = e.getMessage();
      changed();
    }
    try {
      shutDown(termination.get());
    } catch (InterruptedException | ExecutionException e) {
      shutDown(new Termination(Duration.ZERO, false));
    }
  }

  private ClusterAccess nodeAccess() {
    return node.environment().access();
  }

  private void createRunners() {
    for (Container container : pod.getSpec().getInitContainers()) {
      initRunners.put(container.getName(), runner(container));
    }
    for (Container container : pod.getSpec().getContainers()) {
      appRunners.put(container.getName(), runner(container));
    }
  }

  private ContainerRunner runner(Container container) {
    Path logFile = directory.resolve("logs").resolve(container.getName() + ".log");
    Long grace = pod.getSpec().getTerminationGracePeriodSeconds();
    return new ContainerRunner(container, commandFor(container), logFile, sandbox.ip(), node.prober(),
        node.probes(), Duration.ofSeconds(grace == null ? 30 : grace), this::changed);
  }

  /** Waits for the ConfigMaps and Secrets the volumes need, as a pod stays in ContainerCreating until they exist. */
  private boolean prepareVolumes() {
    while (!termination.isDone()) {
      try {
        volumes.prepare();
        return true;
      } catch (PodVolumes.MissingSourceException e) {
        if (!e.getMessage().equals(message)) {
          message = e.getMessage();
          changed();
        }
        sleepUnlessTerminating(Duration.ofSeconds(1));
      }
    }
    return false;
  }

  private boolean runInitContainers() {
    for (Container container : pod.getSpec().getInitContainers()) {
      ContainerRunner runner = initRunners.get(container.getName());
      if ("Always".equals(container.getRestartPolicy())) {
        runner.supervise("Always");
        while (!runner.started()) {
          if (!sleepUnlessTerminating(Duration.ofMillis(200))) {
            return false;
          }
        }
        continue;
      }
      Duration backoff = Duration.ofSeconds(1);
      while (true) {
        int code;
        try {
          code = runner.runOnce(termination::isDone);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        } catch (RuntimeException e) {
          message = "init container " + container.getName() + ": " + e.getMessage();
          code = -1;
        }
        if (termination.isDone()) {
          return false;
        }
        if (code == 0) {
          break;
        }
        log.warn("event=init_container_failed pod={}/{} container={} exit={} log_tail=\n{}", namespace(), name(),
            container.getName(), code, runner.logTail());
        if ("Never".equals(pod.getSpec().getRestartPolicy())) {
          failed = true;
          changed();
          return false;
        }
        runner.countRestart(backoff);
        if (!sleepUnlessTerminating(backoff)) {
          return false;
        }
        backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10)
            : backoff.multipliedBy(2);
      }
    }
    return true;
  }

  private void shutDown(Termination how) {
    Instant deadline = Instant.now().plus(how.grace());
    try {
      List<Thread> stopping = new ArrayList<>();
      for (ContainerRunner runner : List.copyOf(appRunners.values())) {
        Thread thread = new Thread(() -> runner.stop(how.grace()), "stop-" + runner.name());
        thread.start();
        stopping.add(thread);
      }
      for (Thread thread : stopping) {
        thread.join();
      }
      List<ContainerRunner> inits = new ArrayList<>(initRunners.values());
      Collections.reverse(inits);
      for (ContainerRunner runner : inits) {
        Duration left = Duration.between(Instant.now(), deadline);
        // a kill (no grace) kills the sidecars too; a graceful stop leaves them a moment after the apps
        runner.stop(how.grace().isZero() ? Duration.ZERO : left.compareTo(MINIMUM_GRACE) < 0 ? MINIMUM_GRACE : left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      PodSandbox current = sandbox;
      if (current != null) {
        current.close();
      }
      deleteVolumes();
      if (how.removeObject()) {
        removeObject();
      }
      stopped.countDown();
    }
  }

  /** The kubelet's last word on a deleted pod: the object goes once its containers are gone. */
  private void removeObject() {
    try {
      Pod current = node.api().pods().inNamespace(namespace()).withName(name()).get();
      if (current != null && uid().equals(current.getMetadata().getUid())) {
        node.api().pods().inNamespace(namespace()).withName(name()).withGracePeriod(0).delete();
      }
    } catch (RuntimeException e) {
      log.warn("event=pod_remove_failed pod={}/{} error={}", namespace(), name(), e.getMessage());
    }
  }

  private void deleteVolumes() {
    Path volumesDir = directory.resolve("volumes");
    if (!Files.exists(volumesDir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(volumesDir)) {
      files.sorted((a, b) -> b.compareTo(a)).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      log.warn("event=volume_cleanup_failed dir={} error={}", volumesDir, e.getMessage());
    }
  }

  /** Sleeps unless the pod is told to stop first; false when it was. */
  private boolean sleepUnlessTerminating(Duration duration) {
    try {
      termination.get(duration.toMillis(), TimeUnit.MILLISECONDS);
      return false;
    } catch (TimeoutException e) {
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      return false;
    }
  }

  private void changed() {
    node.statusChanged().accept(this);
  }

  private Supplier<ContainerCommand> commandFor(Container container) {
    return () -> {
      var java = node.images().javaImage(container.getImage());
      boolean javaImage = java.isPresent();
      ContainerCommand.Identity identity = identity(container, javaImage);
      String podIp = podIp();
      String hostIp = node.network().hostAddress().getHostAddress();
      Map<String, String> env = node.environment().of(pod, container, podIp, hostIp, identity.uid() == 0);
      Map<String, Path> imageFiles = java.map(image -> image.files().get()).orElse(Map.of());
      boolean hostClasspath = javaImage && imageFiles.isEmpty();
      boolean readableView = hostClasspath && identity.uid() != 0;
      List<String> argv = node.images().argv(container, env, readableView ? node.classpath()::of : classpath -> classpath);
      List<ContainerCommand.Mount> mounts = new ArrayList<>(volumes.mounts(container));
      imageFiles.forEach((path, file) -> mounts.add(new ContainerCommand.Mount(file, path, true)));
      if (readableView) {
        mounts.add(new ContainerCommand.Mount(node.classpath().directory(), ReadableClasspath.MOUNT_PATH, true));
      }
      if (hostClasspath) {
        String classpath = java.get().classpath();
        mounts.add(new ContainerCommand.Mount(node.classpath().classpathFile(
            readableView ? node.classpath().of(classpath) : classpath), ReadableClasspath.CLASSPATH_FILE, true));
      }
      return new ContainerCommand(sandbox.netns(), mounts, identity, container.getWorkingDir(), argv, env);
    };
  }

  /** The container's user: its securityContext, else the pod's, else the image's (65532 for the project's images). */
  private ContainerCommand.Identity identity(Container container, boolean javaImage) {
    SecurityContext own = container.getSecurityContext();
    PodSecurityContext shared = pod.getSpec().getSecurityContext();
    Long uid = own != null && own.getRunAsUser() != null ? own.getRunAsUser()
        : shared != null && shared.getRunAsUser() != null ? shared.getRunAsUser()
        : javaImage ? IMAGE_USER : 0L;
    Long gid = own != null && own.getRunAsGroup() != null ? own.getRunAsGroup()
        : shared != null && shared.getRunAsGroup() != null ? shared.getRunAsGroup()
        : javaImage ? IMAGE_USER : 0L;
    boolean nonRoot = own != null && own.getRunAsNonRoot() != null ? own.getRunAsNonRoot()
        : shared != null && Boolean.TRUE.equals(shared.getRunAsNonRoot());
    if (nonRoot && uid == 0) {
      throw new IllegalStateException("container " + container.getName()
          + " has runAsNonRoot and its image will run as root");
    }
    List<Long> groups = new ArrayList<>();
    if (shared != null) {
      groups.addAll(shared.getSupplementalGroups());
      if (shared.getFsGroup() != null) {
        groups.add(shared.getFsGroup());
      }
    }
    List<String> capabilities = own != null && own.getCapabilities() != null ? own.getCapabilities().getAdd() : List.of();
    boolean dropsAll = own != null && own.getCapabilities() != null
        && own.getCapabilities().getDrop().stream().anyMatch("ALL"::equalsIgnoreCase);
    boolean noNewPrivileges = own != null && Boolean.FALSE.equals(own.getAllowPrivilegeEscalation());
    return new ContainerCommand.Identity(uid, gid, groups, capabilities, dropsAll, noNewPrivileges);
  }

  /** The pod's status as the kubelet reports it. */
  synchronized PodStatus status() {
    List<ContainerStatus> inits = initRunners.values().stream().map(ContainerRunner::status).toList();
    List<ContainerStatus> apps = appRunners.values().stream().map(ContainerRunner::status).toList();
    // a native sidecar's readiness counts toward the pod's, as it does in Kubernetes
    boolean sidecarsReady = pod.getSpec().getInitContainers().stream()
        .filter(c -> "Always".equals(c.getRestartPolicy()))
        .allMatch(c -> initRunners.get(c.getName()) != null && initRunners.get(c.getName()).ready());
    boolean containersReady = initialized && sidecarsReady && !appRunners.isEmpty()
        && appRunners.values().stream().allMatch(ContainerRunner::ready);
    condition("PodScheduled", true, null);
    condition("Initialized", initialized, initialized ? null : "ContainersNotInitialized");
    condition("ContainersReady", containersReady, containersReady ? null : "ContainersNotReady");
    condition("Ready", containersReady, containersReady ? null : "ContainersNotReady");
    String ip = podIp();
    PodStatusBuilder status = new PodStatusBuilder()
        .withPhase(phase())
        .withMessage(message)
        .withHostIP(node.network().hostAddress().getHostAddress())
        .withStartTime(startTime.toString())
        .withConditions(List.copyOf(conditions.values()))
        .withInitContainerStatuses(inits)
        .withContainerStatuses(apps)
        .withQosClass("BestEffort");
    if (ip != null) {
      status.withPodIP(ip).withPodIPs(new PodIP(ip));
    }
    return status.build();
  }

  private String phase() {
    if (failed) {
      return "Failed";
    }
    if (!initialized) {
      return "Pending";
    }
    String policy = pod.getSpec().getRestartPolicy();
    if (policy == null || "Always".equals(policy)) {
      return "Running";
    }
    boolean allFinished = !appRunners.isEmpty() && appRunners.values().stream().allMatch(ContainerRunner::finished);
    if (allFinished) {
      boolean allSucceeded = appRunners.values().stream().allMatch(r -> Integer.valueOf(0).equals(r.exitCode()));
      return allSucceeded ? "Succeeded" : "Failed";
    }
    return "Running";
  }

  private void condition(String type, boolean value, String reason) {
    String status = value ? "True" : "False";
    PodCondition previous = conditions.get(type);
    if (previous != null && previous.getStatus().equals(status)) {
      return;
    }
    conditions.put(type, new PodConditionBuilder().withType(type).withStatus(status).withReason(reason)
        .withLastTransitionTime(Instant.now().toString()).build());
  }
}
