package io.taskmesh.e2e.cluster.controllers;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local cluster's kube-controller-manager: the namespace, ReplicaSet, Deployment, EndpointSlice and
 * garbage-collector loops, run one after another on one thread whenever a watched object changes (changes
 * coalesced) and at least once a second. Each pass reads fresh lists from the API server, so no loop acts on a
 * stale cache (and none creates a pod twice).
 */
public final class ControllerManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControllerManager.class);
  private static final long RESYNC_MILLIS = 1_000;

  private final List<Controller> controllers;
  private final KubernetesClient api;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "controller-manager");
    thread.setDaemon(true);
    return thread;
  });
  private final AtomicBoolean queued = new AtomicBoolean();
  private final List<Watch> watches = new ArrayList<>();

  public ControllerManager(KubernetesClient api, String caPem) {
    this.api = api;
    this.controllers = List.of(new NamespaceController(api, caPem), new ReplicaSetController(api),
        new DeploymentController(api), new EndpointSliceController(api), new GarbageCollector(api));
  }

  public synchronized void start() {
    watches.add(api.apps().deployments().inAnyNamespace().watch(trigger()));
    watches.add(api.apps().replicaSets().inAnyNamespace().watch(trigger()));
    watches.add(api.pods().inAnyNamespace().watch(trigger()));
    watches.add(api.services().inAnyNamespace().watch(trigger()));
    watches.add(api.namespaces().watch(trigger()));
    loop.scheduleWithFixedDelay(this::enqueue, 0, RESYNC_MILLIS, TimeUnit.MILLISECONDS);
  }

  private <T> Watcher<T> trigger() {
    return new Watcher<>() {
      @Override
      public void eventReceived(Action action, T resource) {
        enqueue();
      }

      @Override
      public void onClose(WatcherException cause) {
        log.warn("event=controller_watch_closed error={}", cause.getMessage());
      }
    };
  }

  private void enqueue() {
    if (queued.compareAndSet(false, true)) {
      loop.execute(this::pass);
    }
  }

  private void pass() {
    queued.set(false);
    for (Controller controller : controllers) {
      try {
        controller.reconcile();
      } catch (RuntimeException e) {
        log.warn("event=controller_pass_failed controller={} error=\"{}\"", controller.getClass().getSimpleName(),
            e.getMessage());
      }
    }
  }

  @Override
  public synchronized void close() {
    watches.forEach(Watch::close);
    loop.shutdownNow();
    try {
      loop.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
