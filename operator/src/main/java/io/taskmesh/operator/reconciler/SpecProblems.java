package io.taskmesh.operator.reconciler;

import io.taskmesh.config.ConfigException;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.api.AppEnvVar;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.api.TaskServiceSpec;
import java.util.Optional;

/**
 * What the schema cannot catch: combinations that would build a broken workload. A TaskService with a
 * problem gets nothing built, only a Degraded condition saying what to change.
 */
public final class SpecProblems {
  private SpecProblems() {}

  /** The reason and message of the first problem, if any. */
  public static Optional<Problem> find(TaskService service, OperatorSettings settings) {
    TaskServiceSpec spec = service.getSpec();
    if (spec == null) {
      return Optional.of(new Problem("MissingSpec", "spec is required"));
    }
    if (spec.replicasOrDefault() > 1 && (spec.database == null || spec.database.postgresUrlSecret == null)) {
      return Optional.of(new Problem("EmbeddedStoreWithReplicas",
          "spec.replicas is " + spec.replicasOrDefault() + " but the embedded store lives inside one pod: set "
              + "spec.database.postgresUrlSecret to a Secret holding a jdbc:postgresql:// URL, or use 1 replica"));
    }
    if (spec.env != null) {
      for (AppEnvVar variable : spec.env) {
        if (variable.name == null || AppEnvVar.reserved(variable.name)) {
          return Optional.of(new Problem("ReservedEnv", "spec.env: " + variable.name
              + " is set by the operator (TASKMESH_*, " + String.join(", ", AppEnvVar.RESERVED) + ")"));
        }
        if (variable.valueFrom != null && variable.valueFrom.secretKeyRef != null) {
          return Optional.of(new Problem("SecretInEnv", "spec.env: " + variable.name
              + ".valueFrom.secretKeyRef is not allowed: use spec.database.postgresUrlSecret for the store"));
        }
      }
    }
    try {
      ProxyConfigRenderer.render(service, settings);
    } catch (ConfigException e) {
      return Optional.of(new Problem("InvalidMeshConfig", e.getMessage()));
    }
    return Optional.empty();
  }

  public record Problem(String reason, String message) {}
}
