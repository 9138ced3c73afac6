package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.taskmesh.operator.api.TaskService;

/**
 * The Service callers use. Its port {@code grpc} targets the app's port, as a Service without a mesh would:
 * the pod's capture redirects that port to the sidecar's inbound listener, so nothing reaches the app
 * around the sidecar, and EndpointSlices (hence discovery) carry the app's port.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR))
public class ServiceDependent extends CRUDKubernetesDependentResource<Service, TaskService> {

  public ServiceDependent() {
    super(Service.class);
  }

  @Override
  protected Service desired(TaskService service, Context<TaskService> context) {
    return build(service);
  }

  public static Service build(TaskService service) {
    return new ServiceBuilder()
        .withMetadata(Labels.metadata(service, service.getMetadata().getName()))
        .withNewSpec()
          .withSelector(Labels.selector(service))
          .addNewPort()
            .withName("grpc")
            .withPort(service.getSpec().portOrDefault())
            .withTargetPort(new IntOrString(service.getSpec().portOrDefault()))
            .withAppProtocol("grpc")
          .endPort()
        .endSpec()
        .build();
  }
}
