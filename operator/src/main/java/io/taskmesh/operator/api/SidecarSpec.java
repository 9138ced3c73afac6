package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** The taskmesh-proxy sidecar of a TaskService's pods. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SidecarSpec {

  /** When pods move to a new proxy image. */
  public enum UpgradePolicy {
    /** Pods keep the proxy image they run, across operator upgrades, until spec.sidecar.image names another. */
    Manual,
    /** Pods follow the proxy image of the operator that reconciles them: an operator upgrade rolls them. */
    Automatic
  }

  @JsonPropertyDescription("Proxy image to run; empty means the operator's proxy image when the pods are first made "
      + "(then kept, see upgradePolicy)")
  @Size(max = 512)
  public String image;

  @JsonPropertyDescription("Manual (default): an operator upgrade leaves running pods on their proxy image, and "
      + "status.proxyImage shows the skew; Automatic: pods follow the operator's proxy image")
  public UpgradePolicy upgradePolicy;

  @JsonPropertyDescription("Requests and limits of the proxy container; empty means the operator's defaults "
      + "(requests 50m CPU, 128Mi memory; limit 224Mi memory)")
  public ResourceRequirements resources;

  public UpgradePolicy upgradePolicyOrDefault() {
    return upgradePolicy == null ? UpgradePolicy.Manual : upgradePolicy;
  }
}
