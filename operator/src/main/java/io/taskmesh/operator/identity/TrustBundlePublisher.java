package io.taskmesh.operator.identity;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.inject.SidecarInjection;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps ConfigMap {@code taskmesh-trust-bundle} (key {@code ca.crt}: the trust anchors, PEM) in every namespace
 * whose pods get a sidecar: those with a TaskService, those labelled for injection, the operator's own (where the
 * chart's gateway runs with its workload identity) and those where a meshed pod runs (a pod opted in by its own
 * label anywhere), looked over on start and every minute, and at once for the namespace of a TaskService or
 * meshed pod that appears ({@link #publishSoon}: until then the kubelet waits to mount it). The ConfigMap is written only when it
 * is missing or holds other anchors, so every replica may run this.
 */
public final class TrustBundlePublisher implements AutoCloseable {
  static final Duration EVERY = Duration.ofMinutes(1);
  private static final Logger log = LoggerFactory.getLogger(TrustBundlePublisher.class);
  private static final String INJECTION_LABEL = "taskmesh.io/injection";
  private final KubernetesClient client;
  private final Supplier<List<X509Certificate>> anchors;
  private final Set<String> alwaysIn;
  private volatile SharedIndexInformer<TaskService> taskServices;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "trust-bundle");
    thread.setDaemon(true);
    return thread;
  });

  /** @param alwaysIn namespaces that get the bundle whatever runs there (the operator's own) */
  public TrustBundlePublisher(KubernetesClient client, Supplier<List<X509Certificate>> anchors, Set<String> alwaysIn) {
    this.client = client;
    this.anchors = anchors;
    this.alwaysIn = Set.copyOf(alwaysIn);
  }

  public void start() {
    scheduler.scheduleWithFixedDelay(this::publishEverywhere, 0, EVERY.toMillis(), TimeUnit.MILLISECONDS);
    // a new TaskService's pods mount the bundle: its namespace gets it now, not at the next look-over
    taskServices = client.resources(TaskService.class).inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(TaskService taskService) {
        publishSoon(taskService.getMetadata().getNamespace());
      }

      @Override
      public void onUpdate(TaskService before, TaskService after) {}

      @Override
      public void onDelete(TaskService taskService, boolean finalStateUnknown) {}
    });
  }

  /** Brings the bundle into {@code namespace} off the caller's thread (an informer's). */
  public void publishSoon(String namespace) {
    scheduler.execute(() -> orRetryLater(namespace, () -> ensure(namespace)));
  }

  /** Writes the bundle into {@code namespace} unless it is there already with these anchors. */
  public void ensure(String namespace) {
    String pem = Pem.certificates(anchors.get());
    ConfigMap current = client.configMaps().inNamespace(namespace).withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).get();
    if (current != null && current.getData() != null
        && pem.equals(current.getData().get(SidecarInjection.TRUST_BUNDLE_KEY))) {
      return;
    }
    ConfigMap desired = new ConfigMapBuilder()
        .withNewMetadata().withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).withNamespace(namespace)
          .withLabels(Map.of("app.kubernetes.io/managed-by", "taskmesh-operator"))
        .endMetadata()
        .withData(Map.of(SidecarInjection.TRUST_BUNDLE_KEY, pem))
        .build();
    client.resource(desired).createOr(existing -> existing.update());
    log.info("event=trust_bundle_published namespace={} anchors={}", namespace, anchors.get().size());
  }

  private void publishEverywhere() {
    orRetryLater("*", () -> {
      Set<String> namespaces = new TreeSet<>(alwaysIn);
      client.resources(TaskService.class).inAnyNamespace().list().getItems().stream()
          .map(HasMetadata::getMetadata).map(meta -> meta.getNamespace()).filter(Objects::nonNull)
          .forEach(namespaces::add);
      client.namespaces().withLabel(INJECTION_LABEL, "enabled").list().getItems()
          .forEach(namespace -> namespaces.add(namespace.getMetadata().getName()));
      client.pods().inAnyNamespace().withLabel(SidecarInjection.TLS_MODE_LABEL, SidecarInjection.TLS_MODE_MTLS).list()
          .getItems().forEach(pod -> namespaces.add(pod.getMetadata().getNamespace()));
      namespaces.forEach(this::ensure);
    });
  }

  /** Runs {@code publishing}; when the API server fails it, the next look-over tries again. */
  private static void orRetryLater(String namespace, Runnable publishing) {
    try {
      publishing.run();
    } catch (KubernetesClientException e) {
      log.warn("event=trust_bundle_publish_failed namespace={} retry_in={}s error=\"{}\"", namespace,
          EVERY.toSeconds(), e.getMessage());
    }
  }

  @Override
  public void close() {
    if (taskServices != null) {
      taskServices.close();
    }
    scheduler.shutdownNow();
  }
}
