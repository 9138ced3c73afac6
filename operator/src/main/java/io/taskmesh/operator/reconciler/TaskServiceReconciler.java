package io.taskmesh.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
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
import io.taskmesh.operator.dependent.Labels;
import io.taskmesh.operator.dependent.PodDisruptionBudgetDependent;
import io.taskmesh.operator.dependent.ReconcileInputs;
import io.taskmesh.operator.dependent.ServiceAccountDependent;
import io.taskmesh.operator.dependent.ServiceDependent;
import io.taskmesh.operator.discovery.PodAcks;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Observe → validate → act → status. A spec with a problem changes nothing and says why (Degraded, and a
 * Warning Event); a valid one reconciles the dependents, then status is read back from the Deployment. A
 * reconcile that fails reaches status the same way (JOSDK retries it). Status is written only when it
 * changes, and an Event only when the refusal or failure is a new one.
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
  /** How often status is refreshed without an event (a safety net: pods' config acks trigger at once). */
  static final Duration STATUS_REFRESH = Duration.ofSeconds(15);

  private final OperatorSettings settings;
  private final Duration statusRefresh;
  private final StatusBuilder statuses;
  private final SidecarCensus census;
  private final EventRecorder events;

  public TaskServiceReconciler(OperatorSettings settings, Clock clock, SidecarCensus census, EventRecorder events) {
    this(settings, clock, census, events, STATUS_REFRESH);
  }

  public TaskServiceReconciler(OperatorSettings settings, Clock clock, SidecarCensus census, EventRecorder events,
      Duration statusRefresh) {
    this.settings = settings;
    this.statusRefresh = statusRefresh;
    this.statuses = new StatusBuilder(clock);
    this.census = census;
    this.events = events;
  }

  /**
   * The service's pods, so a sidecar's config ack (an annotation on its pod) brings the census on status up
   * to date at once rather than at the next refresh. Only the ack changing triggers: readiness already
   * reaches the reconciler through the Deployment.
   */
  @Override
  public List<EventSource<?, TaskService>> prepareEventSources(EventSourceContext<TaskService> context) {
    InformerEventSourceConfiguration<Pod> pods = InformerEventSourceConfiguration.from(Pod.class, TaskService.class)
        .withName("pods")
        .withLabelSelector(Labels.MANAGED_SELECTOR)
        .withSecondaryToPrimaryMapper(pod -> {
          String service = pod.getMetadata().getLabels().get(Labels.SERVICE_LABEL);
          return service == null ? Set.of() : Set.of(new ResourceID(service, pod.getMetadata().getNamespace()));
        })
        .withOnAddFilter(pod -> false)
        .withOnUpdateFilter((updated, old) -> !Objects.equals(ack(updated), ack(old)))
        .build();
    return List.of(new InformerEventSource<>(pods, context));
  }

  private static String ack(Pod pod) {
    return pod.getMetadata().getAnnotations() == null ? null
        : pod.getMetadata().getAnnotations().get(PodAcks.APPLIED_ANNOTATION);
  }

  @Override
  public UpdateControl<TaskService> reconcile(TaskService service, Context<TaskService> context) {
    Optional<SpecProblems.Problem> problem = SpecProblems.find(service, settings);
    TaskServiceStatus status;
    if (problem.isPresent()) {
      status = statuses.degraded(service, context.getSecondaryResource(Deployment.class), problem.get());
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
    if (!record(service, status, context)) {
      return UpdateControl.<TaskService>noUpdate().rescheduleAfter(statusRefresh);
    }
    return UpdateControl.patchStatus(service).rescheduleAfter(statusRefresh);
  }

  @Override
  public ErrorStatusUpdateControl<TaskService> updateErrorStatus(TaskService service, Context<TaskService> context,
      Exception failure) {
    TaskServiceStatus status = statuses.failed(service, context.getSecondaryResource(Deployment.class), failure);
    return record(service, status, context)
        ? ErrorStatusUpdateControl.patchStatus(service) : ErrorStatusUpdateControl.noStatusUpdate();
  }

  /**
   * Sets {@code status} on {@code service} when it differs from what is stored, with a Warning Event when
   * it brings a refusal or failure the stored status did not already show.
   *
   * @return whether the status changed
   */
  private boolean record(TaskService service, TaskServiceStatus status, Context<TaskService> context) {
    if (Objects.equals(status, service.getStatus())) {
      return false;
    }
    Optional<Condition> degraded = degraded(status.conditions);
    Optional<Condition> before = degraded(service.getStatus() == null ? List.of() : service.getStatus().conditions);
    if (degraded.isPresent() && (before.isEmpty()
        || !Objects.equals(before.get().getReason(), degraded.get().getReason())
        || !Objects.equals(before.get().getMessage(), degraded.get().getMessage()))) {
      events.warning(context.getClient(), service, degraded.get().getReason(), degraded.get().getMessage());
    }
    service.setStatus(status);
    return true;
  }

  private static Optional<Condition> degraded(List<Condition> conditions) {
    return conditions.stream().filter(c -> c.getType().equals("Degraded") && c.getStatus().equals("True")).findFirst();
  }
}
