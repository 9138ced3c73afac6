package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.crd.generator.annotation.PrinterColumn;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class AuthorizationPolicyStatus {
  public Long observedGeneration;

  /** Hash of the rules the target's sidecars get (this policy's with any other policy targeting the service). */
  public String rulesHash;

  /** The target's sidecars enforcing {@link #rulesHash} out of its pods, e.g. "3/3". */
  @PrinterColumn(name = "APPLIED")
  public String applied;

  /** {@code Accepted}: True when the policy is valid and in the target's rules, else False with the reason. */
  public List<Condition> conditions = new ArrayList<>();

  @Override
  public boolean equals(Object other) {
    return other instanceof AuthorizationPolicyStatus that && Objects.equals(observedGeneration, that.observedGeneration)
        && Objects.equals(rulesHash, that.rulesHash) && Objects.equals(applied, that.applied)
        && Objects.equals(conditions, that.conditions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, rulesHash, applied, conditions);
  }
}
