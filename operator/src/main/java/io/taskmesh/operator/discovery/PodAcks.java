package io.taskmesh.operator.discovery;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.taskmesh.discovery.v1.Node;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the config hash a sidecar announces on its own Pod ({@code taskmesh.io/proxy-config-applied}), where
 * every operator replica sees it: a sidecar's stream reaches one replica, the census is taken by the leader.
 * Writes happen off the gRPC threads, once per pod and hash.
 */
public final class PodAcks implements Consumer<Node>, AutoCloseable {
  public static final String APPLIED_ANNOTATION = "taskmesh.io/proxy-config-applied";
  private static final Logger log = LoggerFactory.getLogger(PodAcks.class);

  private final KubernetesClient client;
  /** Each pod's last recorded hash, so each is written once; past this many pods the oldest are forgotten. */
  private static final int REMEMBERED_PODS = 10_000;
  private final Map<String, String> recorded = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
          return size() > REMEMBERED_PODS;
        }
      });
  private final ExecutorService writer = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-pod-acks");
    thread.setDaemon(true);
    return thread;
  });

  public PodAcks(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public void accept(Node node) {
    if (node.getPodName().isEmpty() || node.getNamespace().isEmpty() || node.getConfigHash().isEmpty()) {
      return; // a proxy outside Kubernetes (local mesh) has no pod to record on
    }
    String pod = node.getNamespace() + "/" + node.getPodName();
    if (node.getConfigHash().equals(recorded.put(pod, node.getConfigHash()))) {
      return;
    }
    writer.execute(() -> record(node, pod));
  }

  private void record(Node node, String pod) {
    String patch = "{\"metadata\":{\"annotations\":{\"" + APPLIED_ANNOTATION + "\":\"" + node.getConfigHash() + "\"}}}";
    try {
      client.pods().inNamespace(node.getNamespace()).withName(node.getPodName())
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    } catch (KubernetesClientException e) {
      recorded.remove(pod, node.getConfigHash()); // the next announcement tries again
      log.warn("event=config_ack_not_recorded pod={} hash={} error=\"{}\"", pod, node.getConfigHash(), e.getMessage());
    }
  }

  @Override
  public void close() {
    writer.shutdownNow();
  }
}
