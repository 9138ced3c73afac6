package io.taskmesh.operator.discovery;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.identity.SpiffeId;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the config hash a sidecar announces on its own Pod ({@code taskmesh.io/proxy-config-applied}), and the
 * hash of the authorization it enforces ({@code taskmesh.io/authorization-applied}), where every operator replica
 * sees them: a sidecar's stream reaches one replica, the census is taken by the leader. Writes happen off the
 * gRPC threads, once per pod and hashes. With identity on, a pod is written only when it runs as the
 * ServiceAccount the peer's certificate proves (a sidecar acks for its own pod, not another's).
 */
public final class PodAcks implements PeerAcks, Consumer<Node>, AutoCloseable {
  public static final String APPLIED_ANNOTATION = "taskmesh.io/proxy-config-applied";
  public static final String AUTHORIZATION_ANNOTATION = "taskmesh.io/authorization-applied";
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

  private final Runnable authorizationAcked;

  public PodAcks(KubernetesClient client) {
    this(client, () -> { });
  }

  /** @param authorizationAcked told after a pod's authorization hash was recorded (the policies' census changed) */
  public PodAcks(KubernetesClient client, Runnable authorizationAcked) {
    this.client = client;
    this.authorizationAcked = authorizationAcked;
  }

  @Override
  public void accept(Node node) {
    accept(node, Optional.empty());
  }

  @Override
  public void accept(Node node, Optional<SpiffeId> peer) {
    if (node.getPodName().isEmpty() || node.getNamespace().isEmpty() || node.getConfigHash().isEmpty()) {
      return; // a proxy outside Kubernetes (local mesh) has no pod to record on
    }
    String pod = node.getNamespace() + "/" + node.getPodName();
    String hashes = node.getConfigHash() + " " + node.getAuthorizationHash();
    if (hashes.equals(recorded.put(pod, hashes))) {
      return;
    }
    writer.execute(() -> record(node, pod, hashes, peer));
  }

  private void record(Node node, String pod, String hashes, Optional<SpiffeId> peer) {
    try {
      if (peer.isPresent() && !runsAs(node, peer.get())) {
        log.warn("event=ack_refused pod={} peer={} reason=\"the pod does not run as the peer's ServiceAccount\"", pod,
            peer.get());
        return;
      }
      Map<String, String> annotations = new java.util.LinkedHashMap<>();
      annotations.put(APPLIED_ANNOTATION, node.getConfigHash());
      if (!node.getAuthorizationHash().isEmpty()) {
        annotations.put(AUTHORIZATION_ANNOTATION, node.getAuthorizationHash());
      }
      client.pods().inNamespace(node.getNamespace()).withName(node.getPodName())
          .patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(
              Map.of("metadata", Map.of("annotations", annotations))));
      if (!node.getAuthorizationHash().isEmpty()) {
        authorizationAcked.run();
      }
    } catch (KubernetesClientException e) {
      recorded.remove(pod, hashes); // the next announcement tries again
      log.warn("event=config_ack_not_recorded pod={} hashes=\"{}\" error=\"{}\"", pod, hashes, e.getMessage());
    }
  }

  private boolean runsAs(Node node, SpiffeId peer) {
    Pod found = client.pods().inNamespace(node.getNamespace()).withName(node.getPodName()).get();
    String account = found == null || found.getSpec() == null ? null : found.getSpec().getServiceAccountName();
    return peer.namespace().equals(node.getNamespace())
        && peer.serviceAccount().equals(account == null ? "default" : account);
  }

  @Override
  public void close() {
    writer.shutdownNow();
  }
}
