package io.taskmesh.operator.authz;

import io.taskmesh.discovery.v1.AuthorizationRule;
import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.discovery.v1.MethodMatch;
import io.taskmesh.operator.api.AuthorizationPolicy;
import io.taskmesh.operator.api.AuthorizationPolicySpec;
import io.taskmesh.operator.discovery.ServiceKey;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * AuthorizationPolicies as the sidecars of their target get them: all the policies of one service merged into
 * one {@link InboundAuthorization}, in a stable order, with a hash of the content (so every operator replica
 * derives the same hash, and a sidecar's ack means the same to each).
 */
public final class PolicyTranslator {
  private static final Pattern METHOD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Comparator<AuthorizationPolicy> BY_NAME = Comparator.comparing(PolicyTranslator::name);

  private PolicyTranslator() {}

  /** The mesh service a policy is for: TaskService and Service targets both name the mesh service. */
  public static ServiceKey target(AuthorizationPolicy policy) {
    return new ServiceKey(policy.getSpec().targetRef.name, policy.getMetadata().getNamespace());
  }

  public static String name(AuthorizationPolicy policy) {
    return policy.getMetadata().getNamespace() + "/" + policy.getMetadata().getName();
  }

  /** What the schema cannot say (or an object stored before it said it): why the policy cannot be applied. */
  public static Optional<String> problem(AuthorizationPolicy policy) {
    AuthorizationPolicySpec spec = policy.getSpec();
    if (spec == null || spec.targetRef == null || spec.targetRef.name == null || spec.targetRef.name.isEmpty()) {
      return Optional.of("spec.targetRef.name: required");
    }
    List<AuthorizationPolicySpec.Rule> rules = spec.rulesOrEmpty();
    for (int r = 0; r < rules.size(); r++) {
      List<AuthorizationPolicySpec.Caller> from = rules.get(r).from == null ? List.of() : rules.get(r).from;
      for (int c = 0; c < from.size(); c++) {
        AuthorizationPolicySpec.Caller caller = from.get(c);
        if (caller.identity == null && caller.namespace == null && caller.serviceAccount == null) {
          return Optional.of("spec.rules[" + r + "].from[" + c + "]: names no identity, namespace or serviceAccount");
        }
        if (caller.identity != null) {
          try {
            io.taskmesh.identity.SpiffeId.parse(caller.identity);
          } catch (IllegalArgumentException e) {
            return Optional.of("spec.rules[" + r + "].from[" + c + "].identity: " + e.getMessage());
          }
        }
      }
      List<AuthorizationPolicySpec.Method> to = rules.get(r).to == null ? List.of() : rules.get(r).to;
      for (int m = 0; m < to.size(); m++) {
        if (to.get(m).service == null || to.get(m).service.isEmpty()) {
          return Optional.of("spec.rules[" + r + "].to[" + m + "].service: required");
        }
        List<String> methods = to.get(m).methods == null ? List.of() : to.get(m).methods;
        for (int n = 0; n < methods.size(); n++) {
          if (!METHOD.matcher(methods.get(n)).matches()) {
            return Optional.of("spec.rules[" + r + "].to[" + m + "].methods[" + n + "]: '" + methods.get(n)
                + "' is not a gRPC method name (letters, digits, '_'; the service goes in 'service')");
          }
        }
      }
    }
    return Optional.empty();
  }

  /** The one table of a service from its valid policies; none: {@link AuthorizationTables#UNRESTRICTED}. */
  public static InboundAuthorization table(List<AuthorizationPolicy> policies) {
    if (policies.isEmpty()) {
      return AuthorizationTables.UNRESTRICTED;
    }
    InboundAuthorization.Builder table = InboundAuthorization.newBuilder();
    for (AuthorizationPolicy policy : policies.stream().sorted(BY_NAME).toList()) {
      String name = name(policy);
      if (policy.getSpec().defaultActionOrDefault() == AuthorizationPolicySpec.Action.Deny) {
        table.setDefaultDeny(true).addDefaultDenyPolicies(name);
      }
      for (AuthorizationPolicySpec.Rule rule : policy.getSpec().rulesOrEmpty()) {
        AuthorizationRule.Builder message = AuthorizationRule.newBuilder().setPolicy(name).setDeny(rule.denies());
        for (AuthorizationPolicySpec.Caller caller : rule.from == null ? List.<AuthorizationPolicySpec.Caller>of() : rule.from) {
          CallerMatch.Builder match = CallerMatch.newBuilder();
          if (caller.identity != null) {
            match.setIdentity(caller.identity);
          } else {
            // a ServiceAccount alone is one of the policy's namespace
            match.setNamespace(caller.namespace != null ? caller.namespace : policy.getMetadata().getNamespace());
            if (caller.serviceAccount != null) {
              match.setServiceAccount(caller.serviceAccount);
            }
          }
          message.addFrom(match);
        }
        for (AuthorizationPolicySpec.Method method : rule.to == null ? List.<AuthorizationPolicySpec.Method>of() : rule.to) {
          message.addTo(MethodMatch.newBuilder().setGrpcService(method.service)
              .addAllMethods(method.methods == null ? List.of() : method.methods));
        }
        table.addRules(message);
      }
    }
    return withHash(table);
  }

  static InboundAuthorization withHash(InboundAuthorization.Builder table) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(table.clearHash().build().toByteArray());
      return table.setHash(HexFormat.of().formatHex(digest, 0, 8)).build();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
