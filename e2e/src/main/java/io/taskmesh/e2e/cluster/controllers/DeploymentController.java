package io.taskmesh.e2e.cluster.controllers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deployments as the deployment controller runs them: one ReplicaSet per pod template, named and labelled
 * with the template's {@code pod-template-hash}; a new template is rolled out by scaling the new ReplicaSet up
 * and the old ones down within {@code maxSurge} (pods above spec.replicas) and {@code maxUnavailable} (ready
 * pods below spec.replicas), counting only ready pods as available, or, with strategy Recreate, by removing
 * every old pod first. The status (replicas, updated, ready, available, conditions) follows the pods.
 */
final class DeploymentController implements Controller {
  static final String TEMPLATE_HASH = "pod-template-hash";
  private static final String REVISION = "deployment.kubernetes.io/revision";
  private static final Logger log = LoggerFactory.getLogger(DeploymentController.class);
  private static final ObjectMapper SORTED = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  private static final String SAFE_LETTERS = "bcdfghjklmnpqrstvwxz2456789";

  private final KubernetesClient api;

  DeploymentController(KubernetesClient api) {
    this.api = api;
  }

  @Override
  public void reconcile() {
    List<ReplicaSet> replicaSets = api.apps().replicaSets().inAnyNamespace().list().getItems();
    for (Deployment deployment : api.apps().deployments().inAnyNamespace().list().getItems()) {
      if (Pods.terminating(deployment)) {
        continue;
      }
      List<ReplicaSet> owned = replicaSets.stream().filter(rs -> Pods.controlledBy(rs, deployment)).toList();
      try {
        sync(deployment, new ArrayList<>(owned));
      } catch (KubernetesClientException e) {
        log.debug("event=deployment_sync_retry deployment={} error={}", deployment.getMetadata().getName(),
            e.getMessage());
      }
    }
  }

  private void sync(Deployment deployment, List<ReplicaSet> owned) {
    String hash = templateHash(deployment.getSpec().getTemplate());
    ReplicaSet current = owned.stream().filter(rs -> hash.equals(label(rs, TEMPLATE_HASH))).findFirst()
        .orElse(null);
    int desired = Objects.requireNonNullElse(deployment.getSpec().getReplicas(), 1);
    List<ReplicaSet> old = owned.stream().filter(rs -> rs != current).toList();
    if (current == null) {
      int revision = owned.stream().mapToInt(DeploymentController::revision).max().orElse(0) + 1;
      boolean firstRollout = old.stream().allMatch(rs -> replicas(rs) == 0);
      createReplicaSet(deployment, hash, revision, firstRollout ? desired : 0);
      return;
    }
    String strategy = deployment.getSpec().getStrategy() == null || deployment.getSpec().getStrategy().getType() == null
        ? "RollingUpdate" : deployment.getSpec().getStrategy().getType();
    if (strategy.equals("Recreate")) {
      old.stream().filter(rs -> replicas(rs) > 0).forEach(rs -> scale(rs, 0));
      boolean oldGone = old.stream().allMatch(rs -> status(rs, "replicas") == 0);
      if (oldGone && replicas(current) != desired) {
        scale(current, desired);
      }
    } else {
      rollingUpdate(deployment, desired, current, old);
    }
    writeStatus(deployment, desired, current, owned);
  }

  private void rollingUpdate(Deployment deployment, int desired, ReplicaSet current, List<ReplicaSet> old) {
    var rolling = deployment.getSpec().getStrategy() == null ? null : deployment.getSpec().getStrategy().getRollingUpdate();
    int maxSurge = resolve(rolling == null ? null : rolling.getMaxSurge(), desired, true);
    int maxUnavailable = resolve(rolling == null ? null : rolling.getMaxUnavailable(), desired, false);
    if (maxSurge == 0 && maxUnavailable == 0) {
      maxUnavailable = 1; // the API server refuses both 0; the controller would never progress
    }
    int total = replicas(current) + old.stream().mapToInt(DeploymentController::replicas).sum();
    if (replicas(current) < desired) {
      int room = desired + maxSurge - total;
      if (room > 0) {
        scale(current, Math.min(desired, replicas(current) + room));
      }
    } else if (replicas(current) > desired) {
      scale(current, desired);
    }
    // as the deployment controller counts it: from the ReplicaSets' specs (which lead their pods), less the
    // floor, less what the new ReplicaSet still lacks, so a status that lags the spec never frees a pod twice
    int allPods = replicas(current) + old.stream().mapToInt(DeploymentController::replicas).sum();
    int newUnavailable = Math.max(0, replicas(current) - status(current, "availableReplicas"));
    int maxScaledDown = allPods - (desired - maxUnavailable) - newUnavailable;
    List<ReplicaSet> oldestFirst = old.stream().sorted(Comparator.comparing(DeploymentController::revision)).toList();
    for (ReplicaSet rs : oldestFirst) {
      // old replicas that are not available cost no availability and go first
      int unhealthy = Math.min(Math.max(0, replicas(rs) - status(rs, "availableReplicas")), Math.max(0, maxScaledDown));
      if (unhealthy > 0) {
        scale(rs, replicas(rs) - unhealthy);
        maxScaledDown -= unhealthy;
      }
    }
    for (ReplicaSet rs : oldestFirst) {
      int remove = Math.min(replicas(rs), Math.max(0, maxScaledDown));
      if (remove > 0) {
        scale(rs, replicas(rs) - remove);
        maxScaledDown -= remove;
      }
    }
  }

  private void writeStatus(Deployment deployment, int desired, ReplicaSet current, List<ReplicaSet> owned) {
    int replicas = owned.stream().mapToInt(rs -> status(rs, "replicas")).sum();
    int ready = owned.stream().mapToInt(rs -> status(rs, "readyReplicas")).sum();
    int available = owned.stream().mapToInt(rs -> status(rs, "availableReplicas")).sum();
    int updated = status(current, "replicas");
    boolean complete = updated == desired && replicas == desired && available == desired;
    List<DeploymentCondition> conditions = List.of(
        condition(deployment, "Available", available >= desired - maxUnavailableOf(deployment, desired),
            "MinimumReplicasAvailable", "MinimumReplicasUnavailable"),
        condition(deployment, "Progressing", true, complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
            complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated"));
    DeploymentStatus status = new DeploymentStatusBuilder().withObservedGeneration(deployment.getMetadata().getGeneration())
        .withReplicas(replicas).withUpdatedReplicas(updated).withReadyReplicas(ready).withAvailableReplicas(available)
        .withUnavailableReplicas(Math.max(0, desired - available)).withConditions(conditions).build();
    if (!status.equals(deployment.getStatus())) {
      deployment.setStatus(status);
      api.apps().deployments().inNamespace(deployment.getMetadata().getNamespace()).resource(deployment).updateStatus();
    }
  }

  private int maxUnavailableOf(Deployment deployment, int desired) {
    var rolling = deployment.getSpec().getStrategy() == null ? null : deployment.getSpec().getStrategy().getRollingUpdate();
    return resolve(rolling == null ? null : rolling.getMaxUnavailable(), desired, false);
  }

  private static DeploymentCondition condition(Deployment deployment, String type, boolean holds, String reasonTrue,
      String reasonFalse) {
    String status = holds ? "True" : "False";
    String reason = holds ? reasonTrue : reasonFalse;
    if (deployment.getStatus() != null && deployment.getStatus().getConditions() != null) {
      for (DeploymentCondition previous : deployment.getStatus().getConditions()) {
        if (type.equals(previous.getType()) && status.equals(previous.getStatus()) && reason.equals(previous.getReason())) {
          return previous;
        }
      }
    }
    String now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    return new DeploymentConditionBuilder().withType(type).withStatus(status).withReason(reason)
        .withLastTransitionTime(now).withLastUpdateTime(now).build();
  }

  private void createReplicaSet(Deployment deployment, String hash, int revision, int replicas) {
    PodTemplateSpec template = Serialization.clone(deployment.getSpec().getTemplate());
    template.getMetadata().getLabels().put(TEMPLATE_HASH, hash);
    LabelSelector selector = new LabelSelectorBuilder(deployment.getSpec().getSelector())
        .addToMatchLabels(TEMPLATE_HASH, hash).build();
    ReplicaSet replicaSet = new ReplicaSetBuilder().withNewMetadata()
        .withName(deployment.getMetadata().getName() + "-" + hash)
        .withNamespace(deployment.getMetadata().getNamespace())
        .withLabels(template.getMetadata().getLabels())
        .withAnnotations(Map.of(REVISION, Integer.toString(revision)))
        .withOwnerReferences(Pods.controllerReference(deployment)).endMetadata()
        .withNewSpec().withReplicas(replicas).withSelector(selector).withTemplate(template).endSpec().build();
    api.apps().replicaSets().inNamespace(deployment.getMetadata().getNamespace()).resource(replicaSet).create();
    log.info("event=replicaset_created deployment={}/{} replicaset={} revision={}",
        deployment.getMetadata().getNamespace(), deployment.getMetadata().getName(),
        replicaSet.getMetadata().getName(), revision);
  }

  private void scale(ReplicaSet replicaSet, int replicas) {
    api.apps().replicaSets().inNamespace(replicaSet.getMetadata().getNamespace())
        .withName(replicaSet.getMetadata().getName())
        .edit(rs -> new ReplicaSetBuilder(rs).editSpec().withReplicas(replicas).endSpec().build());
    replicaSet.getSpec().setReplicas(replicas);
  }

  /** maxSurge rounds a percentage up, maxUnavailable down, as the deployment controller does; default 25%. */
  static int resolve(IntOrString value, int desired, boolean roundUp) {
    if (value == null) {
      value = new IntOrString("25%");
    }
    if (value.getIntVal() != null) {
      return value.getIntVal();
    }
    String text = value.getStrVal();
    if (!text.endsWith("%")) {
      return Integer.parseInt(text);
    }
    double share = Integer.parseInt(text.substring(0, text.length() - 1)) * desired / 100.0;
    return (int) (roundUp ? Math.ceil(share) : Math.floor(share));
  }

  /** FNV-32a of the template, in the alphabet the controller uses for names (no vowels, no lookalikes). */
  static String templateHash(PodTemplateSpec template) {
    try {
      byte[] bytes = SORTED.writeValueAsString(SORTED.convertValue(template, Object.class)).getBytes(StandardCharsets.UTF_8);
      int hash = 0x811c9dc5;
      for (byte b : bytes) {
        hash ^= b & 0xff;
        hash *= 0x01000193;
      }
      String digits = Integer.toUnsignedString(hash);
      StringBuilder safe = new StringBuilder();
      for (char digit : digits.toCharArray()) {
        safe.append(SAFE_LETTERS.charAt(digit % SAFE_LETTERS.length()));
      }
      return safe.toString();
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot hash a pod template", e);
    }
  }

  private static String label(ReplicaSet rs, String key) {
    return rs.getMetadata().getLabels() == null ? null : rs.getMetadata().getLabels().get(key);
  }

  private static int revision(ReplicaSet rs) {
    String value = rs.getMetadata().getAnnotations() == null ? null : rs.getMetadata().getAnnotations().get(REVISION);
    return value == null ? 0 : Integer.parseInt(value);
  }

  private static int replicas(ReplicaSet rs) {
    return Objects.requireNonNullElse(rs.getSpec().getReplicas(), 0);
  }

  private static int status(ReplicaSet rs, String field) {
    if (rs.getStatus() == null) {
      return 0;
    }
    Integer value = switch (field) {
      case "replicas" -> rs.getStatus().getReplicas();
      case "readyReplicas" -> rs.getStatus().getReadyReplicas();
      case "availableReplicas" -> rs.getStatus().getAvailableReplicas();
      default -> throw new IllegalArgumentException(field);
    };
    return value == null ? 0 : value;
  }
}
