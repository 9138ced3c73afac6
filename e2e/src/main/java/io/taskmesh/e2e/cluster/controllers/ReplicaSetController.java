package io.taskmesh.e2e.cluster.controllers;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code spec.replicas} pods of each ReplicaSet alive: creates pods from its template (named
 * {@code <replicaset>-xxxxx}, owned by it) and deletes the surplus, not-ready and newest first, as the
 * ReplicaSet controller does; writes replicas, readyReplicas and availableReplicas to its status.
 */
final class ReplicaSetController implements Controller {
  private static final Logger log = LoggerFactory.getLogger(ReplicaSetController.class);

  private final KubernetesClient api;

  ReplicaSetController(KubernetesClient api) {
    this.api = api;
  }

  @Override
  public void reconcile() {
    List<Pod> pods = api.pods().inAnyNamespace().list().getItems();
    for (ReplicaSet replicaSet : api.apps().replicaSets().inAnyNamespace().list().getItems()) {
      if (Pods.terminating(replicaSet)) {
        continue;
      }
      List<Pod> owned = pods.stream().filter(pod -> Pods.controlledBy(pod, replicaSet)).toList();
      List<Pod> active = owned.stream().filter(pod -> !Pods.terminating(pod) && !Pods.finished(pod)).toList();
      int desired = Objects.requireNonNullElse(replicaSet.getSpec().getReplicas(), 1);
      for (int i = active.size(); i < desired; i++) {
        create(replicaSet);
      }
      if (active.size() > desired) {
        active.stream()
            .sorted(Comparator.comparing(Pods::ready)
                .thenComparing(pod -> pod.getMetadata().getCreationTimestamp(), Comparator.reverseOrder()))
            .limit(active.size() - desired)
            .forEach(pod -> api.pods().inNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName()).delete());
      }
      // finished pods are replaced too (restartPolicy Always makes that rare); they stay for their logs
      long ready = active.stream().filter(Pods::ready).count();
      ReplicaSetStatus status = new ReplicaSetStatusBuilder().withReplicas(active.size())
          .withFullyLabeledReplicas(active.size()).withReadyReplicas((int) ready).withAvailableReplicas((int) ready)
          .withObservedGeneration(replicaSet.getMetadata().getGeneration()).build();
      if (!status.equals(replicaSet.getStatus())) {
        replicaSet.setStatus(status);
        try {
          api.apps().replicaSets().inNamespace(replicaSet.getMetadata().getNamespace()).resource(replicaSet)
              .updateStatus();
        } catch (KubernetesClientException e) {
          log.debug("event=replicaset_status_conflict replicaset={} error={}", replicaSet.getMetadata().getName(),
              e.getMessage());
        }
      }
    }
  }

  private void create(ReplicaSet replicaSet) {
    Pod pod = new PodBuilder().withNewMetadataLike(Objects.requireNonNullElseGet(replicaSet.getSpec().getTemplate().getMetadata(),
            io.fabric8.kubernetes.api.model.ObjectMeta::new))
        .withName(null).withGenerateName(replicaSet.getMetadata().getName() + "-")
        .withNamespace(replicaSet.getMetadata().getNamespace())
        .withOwnerReferences(Pods.controllerReference(replicaSet)).endMetadata()
        .withSpec(replicaSet.getSpec().getTemplate().getSpec()).build();
    try {
      api.pods().inNamespace(replicaSet.getMetadata().getNamespace()).resource(pod).create();
    } catch (KubernetesClientException e) {
      log.warn("event=pod_create_failed replicaset={}/{} error=\"{}\"", replicaSet.getMetadata().getNamespace(),
          replicaSet.getMetadata().getName(), e.getMessage());
    }
  }
}
