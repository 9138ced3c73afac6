package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.List;

/**
 * The CEL rule refuses at {@code kubectl apply} what {@code SpecProblems} would otherwise only report as
 * Degraded; the operator keeps that check for objects stored before the rule existed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.replicas) || self.replicas <= 1 || (has(self.database) && has(self.database.postgresUrlSecret))",
    message = "spec.replicas > 1 needs spec.database.postgresUrlSecret: the embedded store lives inside one pod",
    reason = "FieldValueRequired",
    fieldPath = ".database")
public class TaskServiceSpec {

  @JsonPropertyDescription("App image; empty means the task-service image of the operator that first made the pods "
      + "(an operator upgrade does not change it)")
  @Size(max = 512)
  public String image;

  @JsonPropertyDescription("Pods to run; more than 1 needs database.postgresUrlSecret (the embedded store is per pod)")
  @SpecReplicas
  @Min(0)
  @Max(100)
  public Integer replicas;

  @JsonPropertyDescription("The app's gRPC port inside the pod, and the Service's port")
  @Min(1)
  @Max(65535)
  public Integer port;

  @JsonPropertyDescription("Secrets (in this namespace) to pull the app and proxy images with; the operator's own "
      + "(chart value images.pullSecrets) are added")
  @Size(max = 16)
  public List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription("Extra environment of the app container (names the operator sets are refused)")
  @Size(max = 64)
  public List<AppEnvVar> env;

  @JsonPropertyDescription("Resources of the app container")
  public ResourceRequirements resources;

  @JsonPropertyDescription("Where tasks are stored; empty means the embedded H2 store on the claim of spec.storage")
  public DatabaseSpec database;

  @JsonPropertyDescription("The claim the embedded H2 store lives on (one pod, rolled out by Recreate); unused with "
      + "spec.database.postgresUrlSecret")
  public StorageSpec storage;

  @JsonPropertyDescription("The taskmesh-proxy sidecar: its image and when it is upgraded")
  public SidecarSpec sidecar;

  @JsonPropertyDescription("Mesh behaviour: the same keys as the sidecar's config (outbound defaults, inbound rate limit, tracing)")
  public MeshSpec mesh;

  public int replicasOrDefault() {
    return replicas == null ? 1 : replicas;
  }

  /** Whether tasks live in the embedded H2 store (on the operator's claim) rather than in PostgreSQL. */
  public boolean embeddedStore() {
    return database == null || database.postgresUrlSecret == null;
  }

  public StorageSpec storageOrDefault() {
    return storage == null ? new StorageSpec() : storage;
  }

  public SidecarSpec sidecarOrDefault() {
    return sidecar == null ? new SidecarSpec() : sidecar;
  }

  public int portOrDefault() {
    return port == null ? 50051 : port;
  }
}
