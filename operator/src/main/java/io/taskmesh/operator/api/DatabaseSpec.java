package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.SecretKeySelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatabaseSpec {

  @JsonPropertyDescription("Secret key holding a jdbc:postgresql:// URL; replicas then share one store")
  public SecretKeySelector postgresUrlSecret;
}
