package io.taskmesh.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceStatus;
import io.taskmesh.operator.dependent.ProxyImage;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Status from what is observed: the Deployment's replicas, and any spec problem. A condition keeps its
 * lastTransitionTime while its status stays the same, so an unchanged state writes an unchanged status.
 */
public final class StatusBuilder {
  private final Clock clock;

  public StatusBuilder(Clock clock) {
    this.clock = clock;
  }

  public TaskServiceStatus degraded(TaskService service, SpecProblems.Problem problem) {
    TaskServiceStatus status = base(service);
    status.replicas = 0;
    status.readyReplicas = 0;
    status.ready = "0/" + service.getSpec().replicasOrDefault();
    List<Condition> previous = previous(service);
    status.conditions = List.of(
        condition(previous, "Ready", "False", problem.reason(), "nothing was built: " + problem.message()),
        condition(previous, "Progressing", "False", problem.reason(), "waiting for a valid spec"),
        condition(previous, "Degraded", "True", problem.reason(), problem.message()));
    return status;
  }

  /**
   * @param sidecarHashes sidecars of this service by the config hash they run
   * @param operatorProxyImage the proxy image this operator ships
   */
  public TaskServiceStatus observed(TaskService service, Optional<Deployment> deployment, String configHash,
      Map<String, Long> sidecarHashes, String operatorProxyImage) {
    TaskServiceStatus status = base(service);
    int desired = service.getSpec().replicasOrDefault();
    int ready = deployment.map(d -> d.getStatus() == null || d.getStatus().getReadyReplicas() == null
        ? 0 : d.getStatus().getReadyReplicas()).orElse(0);
    int current = deployment.map(d -> d.getStatus() == null || d.getStatus().getReplicas() == null
        ? 0 : d.getStatus().getReplicas()).orElse(0);
    boolean updated = deployment.map(d -> d.getStatus() != null && d.getStatus().getUpdatedReplicas() != null
        && d.getStatus().getUpdatedReplicas() >= desired).orElse(false);
    status.replicas = current;
    status.readyReplicas = ready;
    status.ready = ready + "/" + desired;
    status.configHash = configHash;
    long onCurrent = configHash == null ? 0 : sidecarHashes.getOrDefault(configHash, 0L);
    long sidecars = sidecarHashes.values().stream().mapToLong(Long::longValue).sum();
    status.configApplied = onCurrent + "/" + sidecars;
    List<Condition> previous = previous(service);
    boolean isReady = ready >= desired && (desired == 0 || updated);
    status.conditions = List.of(
        condition(previous, "Ready", isReady ? "True" : "False", isReady ? "AllReplicasReady" : "ReplicasNotReady",
            ready + " of " + desired + " replicas ready"),
        condition(previous, "Progressing", isReady ? "False" : "True", isReady ? "RolloutComplete" : "RollingOut",
            isReady ? "the workload matches the spec" : "waiting for " + (desired - ready) + " replicas"),
        condition(previous, "Degraded", "False", "SpecValid", "the spec is valid"),
        proxyCondition(previous, status, deployment, operatorProxyImage));
    return status;
  }

  private Condition proxyCondition(List<Condition> previous, TaskServiceStatus status,
      Optional<Deployment> deployment, String operatorProxyImage) {
    status.proxyImage = ProxyImage.running(deployment).orElse(null);
    status.operatorProxyImage = operatorProxyImage;
    if (status.proxyImage == null || status.proxyImage.equals(operatorProxyImage)) {
      return condition(previous, "ProxyCurrent", "True", "SameAsOperator",
          "pods run the proxy image this operator ships");
    }
    return condition(previous, "ProxyCurrent", "False", "ProxyVersionSkew", "pods run " + status.proxyImage
        + "; this operator ships " + operatorProxyImage + ": set spec.sidecar.upgradePolicy: Automatic, or "
        + "spec.sidecar.image, to roll the pods onto it");
  }

  private static TaskServiceStatus base(TaskService service) {
    TaskServiceStatus status = new TaskServiceStatus();
    status.observedGeneration = service.getMetadata().getGeneration();
    status.serviceAddress = service.getMetadata().getName() + "." + service.getMetadata().getNamespace()
        + ".svc:" + service.getSpec().portOrDefault();
    return status;
  }

  private static List<Condition> previous(TaskService service) {
    return service.getStatus() == null || service.getStatus().conditions == null
        ? List.of() : new ArrayList<>(service.getStatus().conditions);
  }

  private Condition condition(List<Condition> previous, String type, String status, String reason, String message) {
    String since = previous.stream()
        .filter(c -> c.getType().equals(type) && c.getStatus().equals(status))
        .map(Condition::getLastTransitionTime).findFirst()
        .orElse(Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
        .withLastTransitionTime(since).build();
  }
}
