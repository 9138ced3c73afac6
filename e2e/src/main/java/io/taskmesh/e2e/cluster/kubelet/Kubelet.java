package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.e2e.cluster.ClusterAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashSet;
import java.util.Set;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's agent: watches pods and runs each one ({@link PodWorker}) in its own network namespace on
 * {@link PodNetwork}'s bridge, writes their status back, keeps each pod's {@code /etc/hosts} and ConfigMap
 * and Secret volumes (and projected tokens) current, and runs kube-proxy's service rules. Every pod the API server holds runs
 * here: the local cluster has one node and no scheduler.
 */
public final class Kubelet implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Kubelet.class);
  private static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);
  private static final long RESYNC_MILLIS = 0;
  /** As the kubelet's sync period: projected tokens are renewed on it once 80% of their lifetime has passed. */
  private static final Duration VOLUME_RESYNC = Duration.ofMinutes(1);

  private final KubernetesClient api;
  private final Optional<Duration> probePeriodCap;
  private final PodNetwork network;
  private final ContainerImages images;
  private final ClusterAccess access;
  private final Path workDir;
  private final Map<String, PodWorker> workers = new ConcurrentHashMap<>();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final ExecutorService sync = Executors.newSingleThreadExecutor(daemon("kubelet-sync"));
  private final ScheduledExecutorService probes = Executors.newScheduledThreadPool(4, daemon("kubelet-probe"));
  private final AtomicBoolean servicesDirty = new AtomicBoolean();
  private final PodStatusWriter statusWriter;
  private final KubeProxy kubeProxy;
  private volatile SharedIndexInformer<Service> services;
  private volatile SharedIndexInformer<EndpointSlice> slices;
  private NodeContext node;
  private volatile boolean closed;

  public Kubelet(KubernetesClient api, PodNetwork network, ContainerImages images, ClusterAccess access, Path workDir) {
    this(api, network, images, access, workDir, Optional.empty());
  }

  /** @param probePeriodCap when present, every probe runs at least this often (a demo setting, said when used) */
  public Kubelet(KubernetesClient api, PodNetwork network, ContainerImages images, ClusterAccess access, Path workDir,
      Optional<Duration> probePeriodCap) {
    this.probePeriodCap = probePeriodCap;
    this.api = api;
    this.network = network;
    this.images = images;
    this.access = access;
    this.workDir = workDir.toAbsolutePath();
    this.statusWriter = new PodStatusWriter(api);
    this.kubeProxy = new KubeProxy(network.nodeNamespace());
  }

  /** Starts watching; pods that already exist start at once. */
  public synchronized void start() {
    allowTraversal(workDir);
    node = new NodeContext(api, network, images, new ContainerEnvironment(api, access, network.clusterName()),
        new Prober(probePeriodCap), probes, new ReadableClasspath(workDir.resolve("classpath")), this::knownServices,
        statusWriter::publish, workDir);
    kubeProxy.install();
    registerNode();
    services = api.services().inAnyNamespace().inform(onAnyChange(ignored -> servicesChanged()), RESYNC_MILLIS);
    slices = api.discovery().v1().endpointSlices().inAnyNamespace()
        .inform(onAnyChange(ignored -> servicesChanged()), RESYNC_MILLIS);
    informers.add(services);
    informers.add(slices);
    informers.add(api.configMaps().inAnyNamespace().inform(onAnyChange(this::sourceChanged), RESYNC_MILLIS));
    informers.add(api.secrets().inAnyNamespace().inform(onAnyChange(this::sourceChanged), RESYNC_MILLIS));
    informers.add(api.pods().inAnyNamespace().inform(new PodEvents(), RESYNC_MILLIS));
    probes.scheduleWithFixedDelay(this::resyncVolumes, VOLUME_RESYNC.toMillis(), VOLUME_RESYNC.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** The last lines a pod's container wrote, for error messages; empty when the kubelet does not run that pod. */
  public Optional<String> logTail(String namespace, String pod, String container) {
    return worker(namespace, pod).map(w -> w.container(container)).map(ContainerRunner::logTail);
  }

  /** Where a container's output goes. */
  public Optional<Path> logFile(String namespace, String pod, String container) {
    return worker(namespace, pod).map(w -> w.container(container)).map(ContainerRunner::log);
  }

  /** The process id of a running container, as seen from the host. */
  public Optional<Long> pid(String namespace, String pod, String container) {
    return worker(namespace, pod).map(w -> w.container(container)).map(ContainerRunner::pid).filter(pid -> pid > 0);
  }

  /** The network namespace a pod runs in. */
  public Optional<String> networkNamespace(String namespace, String pod) {
    return worker(namespace, pod).map(PodWorker::netns).flatMap(Optional::ofNullable);
  }

  private Optional<PodWorker> worker(String namespace, String pod) {
    return workers.values().stream()
        .filter(w -> w.namespace().equals(namespace) && w.name().equals(pod))
        .findFirst();
  }

  /** Stops every pod (each with its grace period), then kube-proxy's rules. Pod objects stay in the API server. */
  @Override
  public void close() {
    stopPods(Kubelet::grace);
  }

  /**
   * Stops every pod at once, as a node that is switched off: every container SIGKILLed, with no grace period
   * (what {@code ./taskmesh} does when it is interrupted, or its story is over), then kube-proxy's rules.
   */
  public void kill() {
    stopPods(pod -> Duration.ZERO);
  }

  private void stopPods(java.util.function.Function<Pod, Duration> graceOf) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    informers.forEach(SharedIndexInformer::close);
    List<PodWorker> running = List.copyOf(workers.values());
    running.forEach(worker -> worker.terminate(new PodWorker.Termination(graceOf.apply(worker.pod()), false)));
    for (PodWorker worker : running) {
      try {
        if (!worker.awaitStopped(graceOf.apply(worker.pod()).plusSeconds(30))) {
          log.warn("event=pod_stop_timeout pod={}/{}", worker.namespace(), worker.name());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    sync.shutdownNow();
    probes.shutdownNow();
    statusWriter.close();
    kubeProxy.close();
  }

  /** The Node object, so {@code kubectl get nodes} shows the one node pods run on. */
  private void registerNode() {
    Node self = new NodeBuilder()
        .withNewMetadata().withName(network.clusterName())
          .addToLabels("kubernetes.io/hostname", network.clusterName()).addToLabels("kubernetes.io/os", "linux")
        .endMetadata()
        .withNewSpec().withPodCIDR(network.podCidr()).withPodCIDRs(network.podCidr()).endSpec()
        .build();
    try {
      Node registered = api.nodes().resource(self).createOr(NonDeletingOperation::update);
      registered.setStatus(new NodeStatusBuilder()
          .addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
            .withLastTransitionTime(java.time.Instant.now().toString()).endCondition()
          .addNewAddress().withType("InternalIP").withAddress(network.hostAddress().getHostAddress()).endAddress()
          .addNewAddress().withType("Hostname").withAddress(network.clusterName()).endAddress()
          .withNewNodeInfo().withKubeletVersion("taskmesh-local").withOperatingSystem("linux")
            .withArchitecture(System.getProperty("os.arch")).withContainerRuntimeVersion("taskmesh://processes")
          .endNodeInfo()
          .build());
      api.nodes().resource(registered).updateStatus();
    } catch (KubernetesClientException e) {
      log.warn("event=node_register_failed node={} code={} error={}", network.clusterName(), e.getCode(), e.getMessage());
    }
  }

  private List<Service> knownServices() {
    return services == null ? List.of() : services.getStore().list();
  }

  private void servicesChanged() {
    if (servicesDirty.compareAndSet(false, true)) {
      sync.execute(() -> {
        servicesDirty.set(false);
        SharedIndexInformer<EndpointSlice> endpointSlices = slices;
        if (endpointSlices == null) {
          return; // the Services' informer runs first; the EndpointSlices' own first events sync again
        }
        try {
          kubeProxy.sync(knownServices(), endpointSlices.getStore().list());
          workers.values().forEach(PodWorker::refreshHosts);
        } catch (RuntimeException e) {
          log.warn("event=service_sync_failed error={}", e.getMessage());
        }
      });
    }
  }

  private void resyncVolumes() {
    if (!closed) {
      sync.execute(() -> workers.values().forEach(PodWorker::refreshVolumes));
    }
  }

  private void sourceChanged(HasMetadata source) {
    String namespace = source.getMetadata().getNamespace();
    sync.execute(() -> workers.values().stream()
        .filter(worker -> worker.namespace().equals(namespace))
        .forEach(PodWorker::refreshVolumes));
  }

  private static Duration grace(Pod pod) {
    Long seconds = pod.getMetadata().getDeletionGracePeriodSeconds() != null
        ? pod.getMetadata().getDeletionGracePeriodSeconds() : pod.getSpec().getTerminationGracePeriodSeconds();
    return seconds == null ? DEFAULT_GRACE : Duration.ofSeconds(seconds);
  }

  private final class PodEvents implements ResourceEventHandler<Pod> {
    @Override
    public void onAdd(Pod pod) {
      if (closed) {
        return;
      }
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
        return;
      }
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        api.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
            .withGracePeriod(0).delete();
        return;
      }
      workers.computeIfAbsent(pod.getMetadata().getUid(), uid -> {
        PodWorker worker = new PodWorker(pod, node);
        worker.start();
        return worker;
      });
    }

    @Override
    public void onUpdate(Pod before, Pod pod) {
      PodWorker worker = workers.get(pod.getMetadata().getUid());
      if (worker == null) {
        onAdd(pod);
      } else if (pod.getMetadata().getDeletionTimestamp() != null) {
        worker.terminate(new PodWorker.Termination(grace(pod), true));
      } else if (!Objects.equals(before.getMetadata().getLabels(), pod.getMetadata().getLabels())
          || !Objects.equals(before.getMetadata().getAnnotations(), pod.getMetadata().getAnnotations())) {
        sync.execute(() -> worker.podChanged(pod));
      }
    }

    @Override
    public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
      PodWorker worker = workers.remove(pod.getMetadata().getUid());
      if (worker != null) {
        worker.terminate(new PodWorker.Termination(grace(pod), false));
        statusWriter.forget(pod.getMetadata().getUid());
      }
    }
  }

  private static <T> ResourceEventHandler<T> onAnyChange(Consumer<T> action) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T object) {
        action.accept(object);
      }

      @Override
      public void onUpdate(T before, T after) {
        action.accept(after);
      }

      @Override
      public void onDelete(T object, boolean deletedFinalStateUnknown) {
        action.accept(object);
      }
    };
  }

  /** Containers running as another user open the classpath view under the work directory, so they may pass through it. */
  private static void allowTraversal(Path directory) {
    try {
      Files.createDirectories(directory);
      Set<PosixFilePermission> permissions = new HashSet<>(Files.getPosixFilePermissions(directory));
      permissions.add(PosixFilePermission.OTHERS_EXECUTE);
      permissions.add(PosixFilePermission.GROUP_EXECUTE);
      Files.setPosixFilePermissions(directory, permissions);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the kubelet's work directory " + directory, e);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
