package io.taskmesh.operator.dependent;

import io.taskmesh.operator.api.TaskService;
import java.util.Map;

/** The labels of DESIGN.md on everything the operator creates for a TaskService. */
public final class Labels {
  public static final String MANAGED_BY = "taskmesh-operator";
  public static final String SERVICE_LABEL = "taskmesh.io/service";

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

  public static String proxyConfigMapName(TaskService service) {
    return service.getMetadata().getName() + "-proxy";
  }
}
