package io.taskmesh.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceStatus;
import io.taskmesh.operator.dependent.ConfigMapDependent;
import io.taskmesh.operator.dependent.DataVolumeClaimDependent;
import io.taskmesh.operator.dependent.DeploymentDependent;
import io.taskmesh.operator.dependent.PodDisruptionBudgetDependent;
import io.taskmesh.operator.dependent.ReconcileInputs;
import io.taskmesh.operator.dependent.ServiceAccountDependent;
import io.taskmesh.operator.dependent.ServiceDependent;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Observe → validate → act → status. A spec with a problem builds nothing and says why (Degraded); a valid
 * one reconciles the dependents, then status is read back from the Deployment. Status is written only
 * when it changes.
 */
@ControllerConfiguration(name = "taskservice")
@Workflow(explicitInvocation = true, dependents = {
    @Dependent(type = ServiceAccountDependent.class, name = "serviceaccount"),
    @Dependent(type = DataVolumeClaimDependent.class, name = "data",
        reconcilePrecondition = DataVolumeClaimDependent.EmbeddedStore.class),
    @Dependent(type = ConfigMapDependent.class, name = "configmap"),
    @Dependent(type = DeploymentDependent.class, name = "deployment", dependsOn = {"configmap", "serviceaccount"}),
    @Dependent(type = ServiceDependent.class, name = "service"),
    @Dependent(type = PodDisruptionBudgetDependent.class, name = "pdb",
        reconcilePrecondition = PodDisruptionBudgetDependent.MultipleReplicas.class)
})
public class TaskServiceReconciler implements Reconciler<TaskService> {
  /** How often status is refreshed without an event, so sidecar config counts stay current. */
  static final Duration STATUS_REFRESH = Duration.ofSeconds(15);

  private final OperatorSettings settings;
  private final StatusBuilder statuses;
  private final SidecarCensus census;

  public TaskServiceReconciler(OperatorSettings settings, Clock clock, SidecarCensus census) {
    this.settings = settings;
    this.statuses = new StatusBuilder(clock);
    this.census = census;
  }

  @Override
  public UpdateControl<TaskService> reconcile(TaskService service, Context<TaskService> context) {
    Optional<SpecProblems.Problem> problem = SpecProblems.find(service, settings);
    TaskServiceStatus status;
    if (problem.isPresent()) {
      status = statuses.degraded(service, problem.get());
    } else {
      ReconcileInputs.provide(context, settings);
      context.managedWorkflowAndDependentResourceContext().reconcileManagedWorkflow();
      String hash = context.getSecondaryResource(ConfigMap.class)
          .map(cm -> cm.getMetadata().getAnnotations().get(ConfigMapDependent.HASH_ANNOTATION))
          .orElse(null);
      status = statuses.observed(service, context.getSecondaryResource(Deployment.class), hash,
          census.configHashes(service.getMetadata().getNamespace(), service.getMetadata().getName()),
          settings.proxyImage());
    }
    if (Objects.equals(status, service.getStatus())) {
      return UpdateControl.<TaskService>noUpdate().rescheduleAfter(STATUS_REFRESH);
    }
    service.setStatus(status);
    return UpdateControl.patchStatus(service).rescheduleAfter(STATUS_REFRESH);
  }
}
