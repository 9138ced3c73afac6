package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.ResourceFieldSelector;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import java.util.List;

/**
 * One environment variable of the app container. Narrower than a pod's: the names the operator sets itself
 * are refused (the app would lose its store, port or way out through the sidecar), and a value may come
 * from the pod's fields, its resources or a ConfigMap but not from a Secret, since the operator, not the
 * author of the TaskService, would be the one reading it (the database URL has spec.database for that).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AppEnvVar {
  /** Set by the operator on the app container; the sidecar's own variables start with TASKMESH_ as well. */
  public static final List<String> RESERVED = List.of("TASK_SERVICE_PORT", "TASK_SERVICE_BIND",
      "TASK_SERVICE_DATABASE_URL");
  static final String RESERVED_RULE = "!self.startsWith('TASKMESH_') && !(self in ['TASK_SERVICE_PORT', "
      + "'TASK_SERVICE_BIND', 'TASK_SERVICE_DATABASE_URL'])";

  @Required
  @Size(min = 1, max = 128)
  @Pattern("^[A-Za-z_][A-Za-z0-9_.-]*$")
  @ValidationRule(value = RESERVED_RULE, reason = "FieldValueForbidden",
      message = "is set by the operator (TASKMESH_*, TASK_SERVICE_PORT, TASK_SERVICE_BIND, TASK_SERVICE_DATABASE_URL)")
  public String name;

  @Size(max = 32768)
  public String value;

  @JsonPropertyDescription("fieldRef, resourceFieldRef or configMapKeyRef; not secretKeyRef")
  @ValidationRule(value = "!has(self.secretKeyRef)", reason = "FieldValueForbidden",
      message = "secretKeyRef is not allowed: the operator would read the Secret for you; use "
          + "spec.database.postgresUrlSecret for the store, or a Secret your own pods mount")
  public Source valueFrom;

  public AppEnvVar() {
    // for deserialization
  }

  public AppEnvVar(String name, String value) {
    this.name = name;
    this.value = value;
  }

  /** Whether the operator sets this name itself. */
  public static boolean reserved(String name) {
    return name.startsWith("TASKMESH_") || RESERVED.contains(name);
  }

  public EnvVar toEnvVar() {
    EnvVarBuilder env = new EnvVarBuilder().withName(name).withValue(value);
    if (valueFrom != null) {
      env.withNewValueFrom().withFieldRef(valueFrom.fieldRef).withResourceFieldRef(valueFrom.resourceFieldRef)
          .withConfigMapKeyRef(valueFrom.configMapKeyRef).endValueFrom();
    }
    return env.build();
  }

  /** Where a value may come from. {@code secretKeyRef} is in the schema only so that it is refused by name. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Source {
    public ObjectFieldSelector fieldRef;
    public ResourceFieldSelector resourceFieldRef;
    public ConfigMapKeySelector configMapKeyRef;
    public SecretKeySelector secretKeyRef;
  }
}
