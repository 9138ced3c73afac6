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
 * whose pods get a sidecar: those with a TaskService (at once when one is created) and those labelled for
 * injection, looked over on start and every minute, and the operator's own (where the chart's gateway runs); the webhook also asks for a pod's
 * namespace before it injects it. The ConfigMap is written only when it is missing or holds other anchors, so
 * every replica may run this.
 */
public final class TrustBundlePublisher implements AutoCloseable {
  static final Duration EVERY = Duration.ofMinutes(1);
  private static final Logger log = LoggerFactory.getLogger(TrustBundlePublisher.class);
  private static final String INJECTION_LABEL = "taskmesh.io/injection";
  private final KubernetesClient client;
  private final Supplier<List<X509Certificate>> anchors;
  private final String ownNamespace;
  private volatile SharedIndexInformer<TaskService> taskServices;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "trust-bundle");
    thread.setDaemon(true);
    return thread;
  });

  /** @param ownNamespace the operator's namespace, which always gets the bundle (the gateway's sidecar reads it) */
  public TrustBundlePublisher(KubernetesClient client, Supplier<List<X509Certificate>> anchors, String ownNamespace) {
    this.client = client;
    this.anchors = anchors;
    this.ownNamespace = ownNamespace;
  }

  public void start() {
    scheduler.scheduleWithFixedDelay(this::publishEverywhere, 0, EVERY.toMillis(), TimeUnit.MILLISECONDS);
    // a new TaskService's pods mount the bundle: its namespace gets it now, not at the next look-over
    taskServices = client.resources(TaskService.class).inAnyNamespace().inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(TaskService taskService) {
        String namespace = taskService.getMetadata().getNamespace();
        scheduler.execute(() -> {
          try {
            ensure(namespace);
          } catch (KubernetesClientException e) {
            log.warn("event=trust_bundle_publish_failed namespace={} retry_in={}s error=\"{}\"", namespace,
                EVERY.toSeconds(), e.getMessage());
          }
        });
      }

      @Override
      public void onUpdate(TaskService before, TaskService after) {}

      @Override
      public void onDelete(TaskService taskService, boolean finalStateUnknown) {}
    });
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
    try {
      ensure(ownNamespace);
    } catch (KubernetesClientException e) {
      log.warn("event=trust_bundle_publish_failed namespace={} retry_in={}s error=\"{}\"", ownNamespace,
          EVERY.toSeconds(), e.getMessage());
    }
    try {
      Set<String> namespaces = new TreeSet<>();
      client.resources(TaskService.class).inAnyNamespace().list().getItems().stream()
          .map(HasMetadata::getMetadata).map(meta -> meta.getNamespace()).filter(Objects::nonNull)
          .forEach(namespaces::add);
      client.namespaces().withLabel(INJECTION_LABEL, "enabled").list().getItems()
          .forEach(namespace -> namespaces.add(namespace.getMetadata().getName()));
      namespaces.forEach(this::ensure);
    } catch (KubernetesClientException e) {
      log.warn("event=trust_bundle_publish_failed retry_in={}s error=\"{}\"", EVERY.toSeconds(), e.getMessage());
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
