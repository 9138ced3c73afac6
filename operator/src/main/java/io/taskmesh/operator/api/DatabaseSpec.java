package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.SecretKeySelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.postgresUrlSecret) || (has(self.postgresUrlSecret.name) && self.postgresUrlSecret.name != '')",
    message = "spec.database.postgresUrlSecret.name must name the Secret that holds the PostgreSQL URL",
    reason = "FieldValueRequired",
    fieldPath = ".postgresUrlSecret")
public class DatabaseSpec {

  @JsonPropertyDescription("Secret key holding a jdbc:postgresql:// URL; replicas then share one store")
  public SecretKeySelector postgresUrlSecret;
}
