package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.taskmesh.operator.api.TaskService;

/** The pods' own identity; it holds no Kubernetes permissions (sidecars get endpoints from the operator). */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR))
public class ServiceAccountDependent extends CRUDKubernetesDependentResource<ServiceAccount, TaskService> {

  public ServiceAccountDependent() {
    super(ServiceAccount.class);
  }

  @Override
  protected ServiceAccount desired(TaskService service, Context<TaskService> context) {
    return new ServiceAccountBuilder()
        .withMetadata(Labels.metadata(service, service.getMetadata().getName()))
        .withAutomountServiceAccountToken(false)
        .build();
  }
}
