package io.taskmesh.operator.dependent;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.taskmesh.operator.api.TaskService;
import java.util.Map;

/** The labels of docs/CONTRACT.md on everything the operator creates for a TaskService. */
public final class Labels {
  public static final String MANAGED_BY = "taskmesh-operator";
  public static final String SERVICE_LABEL = "taskmesh.io/service";
  /**
   * What every dependent's informer selects on, so the operator caches only the objects it made, not every
   * ConfigMap, Service or Deployment of the cluster. An object of the same name without the label is not
   * the operator's: creating over it fails, and status says so, rather than the operator taking it over.
   */
  public static final String MANAGED_SELECTOR = "app.kubernetes.io/managed-by=" + MANAGED_BY;

  private Labels() {}

  public static Map<String, String> of(TaskService service) {
    return Map.of(
        "app.kubernetes.io/name", "task-service",
        "app.kubernetes.io/instance", service.getMetadata().getName(),
        "app.kubernetes.io/managed-by", MANAGED_BY,
        SERVICE_LABEL, service.getMetadata().getName());
  }

  /** What the Deployment and Service select pods by. */
  public static Map<String, String> selector(TaskService service) {
    return Map.of(SERVICE_LABEL, service.getMetadata().getName());
  }

  /** Name, namespace and labels of an object the operator makes for {@code service}. */
  public static ObjectMeta metadata(TaskService service, String name) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(service.getMetadata().getNamespace())
        .withLabels(of(service))
        .build();
  }

  public static String dataClaimName(TaskService service) {
    return service.getMetadata().getName() + "-data";
  }

  public static String proxyConfigMapName(TaskService service) {
    return service.getMetadata().getName() + "-proxy";
  }
}
