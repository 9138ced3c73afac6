package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes pods' status to the API server, one write at a time: changes that arrive while a write for the
 * same pod is pending fold into it, a status equal to the last one written is skipped, and a conflict is
 * retried on the latest object.
 */
final class PodStatusWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PodStatusWriter.class);
  private static final int ATTEMPTS = 5;

  private final KubernetesClient api;
  private final ExecutorService writer = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "kubelet-status");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final Map<String, PodStatus> written = new ConcurrentHashMap<>();

  PodStatusWriter(KubernetesClient api) {
    this.api = api;
  }

  void publish(PodWorker worker) {
    if (pending.add(worker.uid())) {
      writer.execute(() -> {
        pending.remove(worker.uid());
        write(worker);
      });
    }
  }

  void forget(String uid) {
    written.remove(uid);
  }

  private void write(PodWorker worker) {
    PodStatus status = worker.status();
    if (status.equals(written.get(worker.uid()))) {
      return;
    }
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        Pod current = api.pods().inNamespace(worker.namespace()).withName(worker.name()).get();
        if (current == null || !worker.uid().equals(current.getMetadata().getUid())) {
          return;
        }
        current.setStatus(status);
        api.pods().inNamespace(worker.namespace()).resource(current).updateStatus();
        written.put(worker.uid(), status);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return;
        }
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          log.warn("event=pod_status_write_failed pod={}/{} code={} error={}", worker.namespace(), worker.name(),
              e.getCode(), e.getMessage());
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    writer.shutdownNow();
  }
}
