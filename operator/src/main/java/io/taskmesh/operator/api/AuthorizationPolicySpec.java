package io.taskmesh.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * A call a Deny rule matches is refused; else one an Allow rule matches is let through; else it gets
 * {@code defaultAction}, Deny unless the policy says otherwise: a policy is written to let some callers in, and
 * one whose list forgot a caller should fail closed, not open. A service no policy targets takes every call.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AuthorizationPolicySpec {
  /** What a call no rule matches gets. */
  public enum Action { Allow, Deny }

  @JsonPropertyDescription("The service whose sidecars enforce this policy")
  @Required
  public TargetRef targetRef;

  @JsonPropertyDescription("What a call that no rule matches gets: Deny (the default) or Allow")
  public Action defaultAction;

  @JsonPropertyDescription("Deny rules are applied first, then Allow rules; the order of rules does not matter")
  @Size(max = 64)
  public List<Rule> rules;

  public Action defaultActionOrDefault() {
    return defaultAction == null ? Action.Deny : defaultAction;
  }

  public List<Rule> rulesOrEmpty() {
    return rules == null ? List.of() : rules;
  }

  /** The mesh service the policy is for: a TaskService, or a Service whose pods are injected. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TargetRef {
    /** The kinds a policy may target. */
    public enum Kind { TaskService, Service }

    @JsonPropertyDescription("TaskService (the default) or Service")
    public Kind kind;

    @JsonPropertyDescription("Name of the TaskService or Service, in the policy's namespace")
    @Required
    @Size(min = 1, max = 63)
    @Pattern("^[a-z]([-a-z0-9]*[a-z0-9])?$")
    public String name;
  }

  /** Calls from some callers to some methods. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Rule {
    @JsonPropertyDescription("Allow (the default) or Deny the calls this rule matches")
    public Action action;

    @JsonPropertyDescription("Callers, any one of which matches; absent: every caller, authenticated or not")
    @Size(max = 64)
    public List<Caller> from;

    @JsonPropertyDescription("gRPC services and methods, any one of which matches; absent: every method")
    @Size(max = 64)
    public List<Method> to;

    public boolean denies() {
      return action == Action.Deny;
    }
  }

  /** A caller by its proven identity: its SPIFFE ID, or its namespace and/or ServiceAccount. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(value = "has(self.identity) || has(self.namespace) || has(self.serviceAccount)",
      message = "a caller names an identity, a namespace or a serviceAccount")
  @ValidationRule(value = "!has(self.identity) || (!has(self.namespace) && !has(self.serviceAccount))",
      message = "identity is a whole SPIFFE ID: it goes without namespace and serviceAccount")
  public static class Caller {
    @JsonPropertyDescription("A caller's SPIFFE ID, exactly: spiffe://<trust domain>/ns/<namespace>/sa/<serviceaccount>")
    @Size(max = 512)
    @Pattern("^spiffe://[a-z0-9._-]+/ns/[a-z0-9]([-a-z0-9.]*[a-z0-9])?/sa/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    public String identity;

    @JsonPropertyDescription("Every caller of this namespace (with serviceAccount: that ServiceAccount of it)")
    @Size(max = 63)
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    public String namespace;

    @JsonPropertyDescription("Callers running as this ServiceAccount, of namespace (absent: the policy's namespace)")
    @Size(max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    public String serviceAccount;
  }

  /** One gRPC service, whole or some of its methods. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Method {
    @JsonPropertyDescription("Fully qualified gRPC service, e.g. taskservice.TaskService")
    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$")
    public String service;

    @JsonPropertyDescription("Method names of that service, e.g. GetTask; absent: every method of it")
    @Size(max = 64)
    public List<String> methods;
  }
}
