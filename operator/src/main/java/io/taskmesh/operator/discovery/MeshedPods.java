package io.taskmesh.operator.discovery;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.inject.SidecarInjection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The pods whose sidecar has a workload identity (label {@code taskmesh.io/tls-mode=mtls}, set by the operator
 * on the pods it makes and injects), and the SPIFFE ID of each: its ServiceAccount's. Only those pods are held,
 * not every pod of the cluster. Discovery announces this identity for the pod's endpoints, so callers reach
 * it over mTLS and require it.
 */
public final class MeshedPods implements AutoCloseable {
  private static final Duration FIRST_LIST_TIMEOUT = Duration.ofMinutes(2);
  private final KubernetesClient client;
  private final String trustDomain;
  private final List<Consumer<String>> newPodListeners = new CopyOnWriteArrayList<>();
  private SharedIndexInformer<Pod> informer;

  public MeshedPods(KubernetesClient client, String trustDomain) {
    this.client = client;
    this.trustDomain = trustDomain;
  }

  /** Tells {@code listener} the namespace of every meshed pod that appears from now on. */
  public void onNewPod(Consumer<String> listener) {
    newPodListeners.add(listener);
  }

  /**
   * Lists the meshed pods and returns once they are all known (so that no endpoint of one is mistaken for an
   * unmeshed one), then follows their changes.
   *
   * @param changed told the namespace of a meshed pod that appeared or changed
   */
  void start(Consumer<String> changed) {
    informer = client.pods().inAnyNamespace()
        .withLabel(SidecarInjection.TLS_MODE_LABEL, SidecarInjection.TLS_MODE_MTLS)
        .runnableInformer(0);
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Pod pod) {
        changed.accept(pod.getMetadata().getNamespace());
        newPodListeners.forEach(listener -> listener.accept(pod.getMetadata().getNamespace()));
      }

      @Override
      public void onUpdate(Pod before, Pod after) {
        changed.accept(after.getMetadata().getNamespace());
      }

      @Override
      public void onDelete(Pod pod, boolean finalStateUnknown) { }
    });
    try {
      informer.start().toCompletableFuture().get(FIRST_LIST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing the meshed pods", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not list the meshed pods (label " + SidecarInjection.TLS_MODE_LABEL
          + "=" + SidecarInjection.TLS_MODE_MTLS + ") within " + FIRST_LIST_TIMEOUT + ": " + e, e);
    }
  }

  /** The SPIFFE ID of pod {@code namespace/name}, when it is a meshed pod with an identity. */
  Optional<SpiffeId> identityOf(String namespace, String name) {
    if (informer == null || name.isEmpty()) {
      return Optional.empty();
    }
    Pod pod = informer.getIndexer().getByKey(Cache.namespaceKeyFunc(namespace, name));
    if (pod == null) {
      return Optional.empty();
    }
    String account = pod.getSpec() == null || pod.getSpec().getServiceAccountName() == null
        || pod.getSpec().getServiceAccountName().isEmpty() ? "default" : pod.getSpec().getServiceAccountName();
    return Optional.of(new SpiffeId(trustDomain, namespace, account));
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
