package io.taskmesh.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceStatus;
import io.taskmesh.operator.dependent.Labels;
import io.taskmesh.operator.dependent.ProxyImage;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Status from what is observed: the Deployment's pods, the sidecars' config hashes, and any spec problem or
 * reconcile failure. The replica counts always describe the pods that run, so a refused edit (or a failed
 * reconcile) does not hide the workload that keeps serving. Each condition carries the generation it was
 * computed for and keeps its lastTransitionTime while its status stays the same, so an unchanged state
 * writes an unchanged status.
 */
public final class StatusBuilder {
  /** Kubernetes caps a condition message at 32768 characters; ours stay far below. */
  static final int MAX_MESSAGE = 1024;
  private final Clock clock;

  public StatusBuilder(Clock clock) {
    this.clock = clock;
  }

  /** The spec was refused: nothing was changed, the pods of the last valid spec (if any) keep running. */
  public TaskServiceStatus degraded(TaskService service, Optional<Deployment> deployment,
      SpecProblems.Problem problem) {
    return notApplied(service, deployment, problem.reason(), problem.message(), "the spec was refused");
  }

  /** Reconciling failed (the API server refused a write, a conflict with an object that is not ours, ...). */
  public TaskServiceStatus failed(TaskService service, Optional<Deployment> deployment, Exception failure) {
    return notApplied(service, deployment, "ReconcileFailed", describe(failure), "reconciling failed");
  }

  private TaskServiceStatus notApplied(TaskService service, Optional<Deployment> deployment, String reason,
      String message, String what) {
    TaskServiceStatus status = base(service);
    Pods pods = Pods.of(deployment);
    List<Condition> previous = previous(service);
    TaskServiceStatus before = service.getStatus();
    if (before != null) {
      status.configHash = before.configHash;
      status.configApplied = before.configApplied;
      status.proxyImage = before.proxyImage;
      status.operatorProxyImage = before.operatorProxyImage;
    }
    status.replicas = pods.current;
    status.readyReplicas = pods.ready;
    status.ready = pods.ready + "/" + pods.desired;
    String running = deployment.isEmpty() ? "nothing was built" : pods.ready + " of " + pods.desired
        + " replicas of the last applied spec ready";
    List<Condition> conditions = new ArrayList<>();
    conditions.add(condition(service, previous, "Ready", pods.ready > 0 && pods.ready >= pods.desired ? "True" : "False",
        reason, running + "; " + what + ": " + message));
    conditions.add(condition(service, previous, "Progressing", "False", reason, "waiting for a spec that can be applied"));
    conditions.add(condition(service, previous, "Degraded", "True", reason, message));
    previous.stream().filter(c -> c.getType().equals("ProxyCurrent")).findFirst().ifPresent(conditions::add);
    status.conditions = List.copyOf(conditions);
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
    Pods pods = Pods.of(deployment);
    boolean updated = deployment.map(d -> d.getStatus() != null && d.getStatus().getUpdatedReplicas() != null
        && d.getStatus().getUpdatedReplicas() >= desired).orElse(false);
    status.replicas = pods.current;
    status.readyReplicas = pods.ready;
    status.ready = pods.ready + "/" + desired;
    status.configHash = configHash;
    long onCurrent = configHash == null ? 0 : sidecarHashes.getOrDefault(configHash, 0L);
    long sidecars = sidecarHashes.values().stream().mapToLong(Long::longValue).sum();
    status.configApplied = onCurrent + "/" + sidecars;
    List<Condition> previous = previous(service);
    boolean isReady = pods.ready >= desired && (desired == 0 || updated);
    status.conditions = List.of(
        condition(service, previous, "Ready", isReady ? "True" : "False",
            isReady ? "AllReplicasReady" : "ReplicasNotReady", pods.ready + " of " + desired + " replicas ready"),
        condition(service, previous, "Progressing", isReady ? "False" : "True",
            isReady ? "RolloutComplete" : "RollingOut",
            isReady ? "the workload matches the spec" : "waiting for " + (desired - pods.ready) + " replicas"),
        condition(service, previous, "Degraded", "False", "SpecValid", "the spec is valid"),
        proxyCondition(service, previous, status, deployment, operatorProxyImage));
    return status;
  }

  private Condition proxyCondition(TaskService service, List<Condition> previous, TaskServiceStatus status,
      Optional<Deployment> deployment, String operatorProxyImage) {
    status.proxyImage = ProxyImage.running(deployment).orElse(null);
    status.operatorProxyImage = operatorProxyImage;
    if (status.proxyImage == null || status.proxyImage.equals(operatorProxyImage)) {
      return condition(service, previous, "ProxyCurrent", "True", "SameAsOperator",
          "pods run the proxy image this operator ships");
    }
    return condition(service, previous, "ProxyCurrent", "False", "ProxyVersionSkew", "pods run "
        + status.proxyImage + "; this operator ships " + operatorProxyImage + ": set spec.sidecar.upgradePolicy: "
        + "Automatic, or spec.sidecar.image, to roll the pods onto it");
  }

  /** What the Deployment reports of its pods (its spec's replicas are those of the last applied TaskService). */
  private record Pods(int desired, int current, int ready) {
    static Pods of(Optional<Deployment> deployment) {
      if (deployment.isEmpty()) {
        return new Pods(0, 0, 0);
      }
      Deployment d = deployment.get();
      int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
      int current = d.getStatus() == null || d.getStatus().getReplicas() == null ? 0 : d.getStatus().getReplicas();
      int ready = d.getStatus() == null || d.getStatus().getReadyReplicas() == null
          ? 0 : d.getStatus().getReadyReplicas();
      return new Pods(desired, current, ready);
    }
  }

  static String describe(Exception failure) {
    Throwable cause = failure;
    while (cause.getCause() != null && cause.getCause() != cause
        && (cause.getMessage() == null || cause.getMessage().startsWith("Exception(s) during workflow execution"))) {
      cause = cause.getCause();
    }
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return message.length() <= MAX_MESSAGE ? message : message.substring(0, MAX_MESSAGE - 3) + "...";
  }

  private static TaskServiceStatus base(TaskService service) {
    TaskServiceStatus status = new TaskServiceStatus();
    status.observedGeneration = service.getMetadata().getGeneration();
    status.selector = Labels.SERVICE_LABEL + "=" + service.getMetadata().getName();
    status.serviceAddress = service.getMetadata().getName() + "." + service.getMetadata().getNamespace()
        + ".svc:" + service.getSpec().portOrDefault();
    return status;
  }

  private static List<Condition> previous(TaskService service) {
    return service.getStatus() == null || service.getStatus().conditions == null
        ? List.of() : new ArrayList<>(service.getStatus().conditions);
  }

  private Condition condition(TaskService service, List<Condition> previous, String type, String status,
      String reason, String message) {
    String since = previous.stream()
        .filter(c -> c.getType().equals(type) && c.getStatus().equals(status))
        .map(Condition::getLastTransitionTime).findFirst()
        .orElse(Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
        .withObservedGeneration(service.getMetadata().getGeneration()).withLastTransitionTime(since).build();
  }
}
