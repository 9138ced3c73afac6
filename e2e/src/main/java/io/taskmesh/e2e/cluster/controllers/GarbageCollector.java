package io.taskmesh.e2e.cluster.controllers;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The garbage collector's background deletion: an object all of whose owners are gone (no object of that kind
 * and name with that uid) is deleted, so deleting a TaskService removes its Deployment, which removes its
 * ReplicaSets, which remove their pods, one pass each.
 */
final class GarbageCollector implements Controller {
  private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);

  private final KubernetesClient api;

  GarbageCollector(KubernetesClient api) {
    this.api = api;
  }

  @Override
  public void reconcile() {
    Map<String, Optional<String>> owners = new HashMap<>();
    dependents().filter(object -> object.getMetadata().getOwnerReferences() != null
            && !object.getMetadata().getOwnerReferences().isEmpty())
        .forEach(object -> {
          boolean orphaned = object.getMetadata().getOwnerReferences().stream()
              .noneMatch(ref -> ownerUid(owners, object.getMetadata().getNamespace(), ref)
                  .filter(ref.getUid()::equals).isPresent());
          if (orphaned) {
            log.info("event=garbage_collected kind={} object={}/{}", object.getKind(),
                object.getMetadata().getNamespace(), object.getMetadata().getName());
            try {
              api.resource(object).delete();
            } catch (KubernetesClientException e) {
              log.debug("event=garbage_collect_retry object={} error={}", object.getMetadata().getName(), e.getMessage());
            }
          }
        });
  }

  private Stream<HasMetadata> dependents() {
    return Stream.of(
        api.apps().deployments().inAnyNamespace().list().getItems(),
        api.apps().replicaSets().inAnyNamespace().list().getItems(),
        api.pods().inAnyNamespace().list().getItems(),
        api.services().inAnyNamespace().list().getItems(),
        api.configMaps().inAnyNamespace().list().getItems(),
        api.secrets().inAnyNamespace().list().getItems(),
        api.serviceAccounts().inAnyNamespace().list().getItems(),
        api.discovery().v1().endpointSlices().inAnyNamespace().list().getItems(),
        api.policy().v1().podDisruptionBudget().inAnyNamespace().list().getItems()
    ).flatMap(List::stream).map(HasMetadata.class::cast);
  }

  private Optional<String> ownerUid(Map<String, Optional<String>> cache, String namespace, OwnerReference ref) {
    String key = ref.getApiVersion() + "/" + ref.getKind() + "/" + namespace + "/" + ref.getName();
    return cache.computeIfAbsent(key, k -> {
      try {
        var resources = api.genericKubernetesResources(ref.getApiVersion(), ref.getKind());
        GenericKubernetesResource owner = namespace == null ? resources.withName(ref.getName()).get()
            : resources.inNamespace(namespace).withName(ref.getName()).get();
        return Optional.ofNullable(owner).map(o -> o.getMetadata().getUid());
      } catch (KubernetesClientException e) {
        // an owner whose kind the API server does not serve (any more) is gone
        return Optional.empty();
      }
    });
  }
}
