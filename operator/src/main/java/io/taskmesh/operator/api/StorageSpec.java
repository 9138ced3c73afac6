package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/** The PersistentVolumeClaim that holds the embedded H2 store; unused when spec.database names PostgreSQL. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StorageSpec {
  public static final String DEFAULT_SIZE = "1Gi";

  @JsonPropertyDescription("Requested size of the claim, e.g. 1Gi (the default); read when the claim is created")
  @Pattern("^[0-9]{1,6}(Mi|Gi|Ti)$")
  public String size;

  @JsonPropertyDescription("StorageClass of the claim; empty means the cluster's default class")
  @Size(max = 253)
  public String storageClassName;

  public String sizeOrDefault() {
    return size == null ? DEFAULT_SIZE : size;
  }
}
