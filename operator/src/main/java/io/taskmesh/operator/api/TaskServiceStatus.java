package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class TaskServiceStatus {
  public Long observedGeneration;

  @StatusReplicas
  public Integer replicas;
  public Integer readyReplicas;

  @PrinterColumn(name = "READY")
  public String ready;

  @PrinterColumn(name = "ADDRESS")
  public String serviceAddress;

  @PrinterColumn(name = "CONFIG")
  public String configHash;

  /** Sidecars running {@link #configHash} out of those subscribed, e.g. "3/3". */
  @PrinterColumn(name = "APPLIED")
  public String configApplied;

  /** The proxy image in the pods' template. */
  public String proxyImage;

  /** The proxy image this operator ships; differs from {@link #proxyImage} until the user upgrades. */
  public String operatorProxyImage;

  /** The pods' label selector, for the scale subresource (kubectl scale, HorizontalPodAutoscaler). */
  @LabelSelector
  public String selector;

  public List<Condition> conditions = new ArrayList<>();

  @Override
  public boolean equals(Object other) {
    return other instanceof TaskServiceStatus that
        && Objects.equals(observedGeneration, that.observedGeneration)
        && Objects.equals(replicas, that.replicas)
        && Objects.equals(readyReplicas, that.readyReplicas)
        && Objects.equals(ready, that.ready)
        && Objects.equals(serviceAddress, that.serviceAddress)
        && Objects.equals(configHash, that.configHash)
        && Objects.equals(configApplied, that.configApplied)
        && Objects.equals(proxyImage, that.proxyImage)
        && Objects.equals(operatorProxyImage, that.operatorProxyImage)
        && Objects.equals(selector, that.selector)
        && Objects.equals(conditions, that.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, replicas, readyReplicas, ready, serviceAddress, configHash, configApplied,
        proxyImage, operatorProxyImage, selector, conditions);
  }
}
