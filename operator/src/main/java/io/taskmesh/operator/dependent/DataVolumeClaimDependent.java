package io.taskmesh.operator.dependent;

import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.taskmesh.operator.api.StorageSpec;
import io.taskmesh.operator.api.TaskService;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * PersistentVolumeClaim {@code <name>-data}: where the embedded H2 store keeps the tasks, so that a new pod
 * (a rollout, a reschedule) opens the same store instead of an empty one.
 *
 * <p>Created once and never updated or deleted by the operator: a claim's spec is mostly immutable, and
 * switching to PostgreSQL and back must not throw the tasks away. It is owned by the TaskService, so
 * deleting the TaskService deletes it (through the garbage collector).
 */
@KubernetesDependent(informer = @Informer(labelSelector = Labels.MANAGED_SELECTOR))
public class DataVolumeClaimDependent extends KubernetesDependentResource<PersistentVolumeClaim, TaskService>
    implements Creator<PersistentVolumeClaim, TaskService>, SecondaryToPrimaryMapper<PersistentVolumeClaim> {

  public DataVolumeClaimDependent() {
    super(PersistentVolumeClaim.class);
  }

  @Override
  protected PersistentVolumeClaim desired(TaskService service, Context<TaskService> context) {
    return build(service);
  }

  public static PersistentVolumeClaim build(TaskService service) {
    StorageSpec storage = service.getSpec().storageOrDefault();
    return new PersistentVolumeClaimBuilder()
        .withMetadata(Labels.metadata(service, Labels.dataClaimName(service)))
        .withNewSpec()
          .withAccessModes("ReadWriteOnce")
          .withStorageClassName(storage.storageClassName)
          .withNewResources().withRequests(Map.of("storage", new Quantity(storage.sizeOrDefault()))).endResources()
        .endSpec()
        .build();
  }

  /**
   * Owned, yet not {@code GarbageCollected}: JOSDK would delete such a dependent when its precondition stops
   * holding. So the owner reference is added here, and events are mapped back to the TaskService by it.
   */
  @Override
  protected boolean addOwnerReference() {
    return true;
  }

  @Override
  public Set<ResourceID> toPrimaryResourceIDs(PersistentVolumeClaim claim) {
    return claim.getMetadata().getOwnerReferences().stream()
        .filter(owner -> HasMetadata.getKind(TaskService.class).equals(owner.getKind()))
        .map(owner -> new ResourceID(owner.getName(), claim.getMetadata().getNamespace()))
        .collect(Collectors.toSet());
  }

  /** Only the embedded store needs a claim. */
  public static final class EmbeddedStore implements Condition<PersistentVolumeClaim, TaskService> {
    @Override
    public boolean isMet(DependentResource<PersistentVolumeClaim, TaskService> dependent, TaskService service,
        Context<TaskService> context) {
      return service.getSpec().embeddedStore();
    }
  }
}
