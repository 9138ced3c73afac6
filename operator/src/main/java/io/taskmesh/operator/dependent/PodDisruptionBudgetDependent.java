package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.taskmesh.operator.api.TaskService;

/** With several replicas, voluntary disruptions (node drains) take at most one pod at a time. */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR))
public class PodDisruptionBudgetDependent extends CRUDKubernetesDependentResource<PodDisruptionBudget, TaskService> {

  public PodDisruptionBudgetDependent() {
    super(PodDisruptionBudget.class);
  }

  @Override
  protected PodDisruptionBudget desired(TaskService service, Context<TaskService> context) {
    return new PodDisruptionBudgetBuilder()
        .withMetadata(Labels.metadata(service, service.getMetadata().getName()))
        .withNewSpec()
          .withMaxUnavailable(new IntOrString(1))
          .withNewSelector().withMatchLabels(Labels.selector(service)).endSelector()
        .endSpec()
        .build();
  }

  /** A budget only makes sense with more than one replica; below that JOSDK removes it. */
  public static final class MultipleReplicas implements Condition<PodDisruptionBudget, TaskService> {
    @Override
    public boolean isMet(DependentResource<PodDisruptionBudget, TaskService> dependent, TaskService service,
        Context<TaskService> context) {
      return service.getSpec().replicasOrDefault() > 1;
    }
  }
}
