package io.taskmesh.sidecar.authz;

import io.taskmesh.discovery.v1.AuthorizationRule;
import io.taskmesh.discovery.v1.CallerMatch;
import io.taskmesh.discovery.v1.MethodMatch;
import io.taskmesh.identity.SpiffeId;
import java.util.List;
import java.util.Optional;

/**
 * Who may call this pod's service, as discovery sent it (the rules of the AuthorizationPolicies that target
 * it), read once per request. A call any deny rule matches is refused; else one an allow rule matches is let
 * through; else the default applies: refused when a policy asks for it, let through when none targets the
 * service. Immutable: a new table replaces this one whole.
 */
public final class InboundAuthorization {
  /** No policy targets the service: every call is let through. */
  public static final InboundAuthorization UNRESTRICTED = new InboundAuthorization(
      io.taskmesh.discovery.v1.InboundAuthorization.newBuilder().setUnrestricted(true).build());

  /** What becomes of one call; {@code policy} names what refused it ("" when allowed). */
  public record Decision(boolean allowed, String policy, String why) {
    static final Decision ALLOWED = new Decision(true, "", "");
  }

  private final io.taskmesh.discovery.v1.InboundAuthorization table;

  private InboundAuthorization(io.taskmesh.discovery.v1.InboundAuthorization table) {
    this.table = table;
  }

  public static InboundAuthorization of(io.taskmesh.discovery.v1.InboundAuthorization table) {
    return table.getUnrestricted() ? UNRESTRICTED : new InboundAuthorization(table);
  }

  /** The hash the control plane gave these rules, reported back once they are in force. */
  public String hash() {
    return table.getHash();
  }

  /**
   * @param caller the caller's proven identity; empty for a plaintext caller, which only rules without
   *     {@code from} match
   * @param path the gRPC path, {@code /package.Service/Method}
   */
  public Decision decide(Optional<SpiffeId> caller, String path) {
    if (table.getUnrestricted()) {
      return Decision.ALLOWED;
    }
    int slash = path.lastIndexOf('/');
    String service = slash > 0 ? path.substring(1, slash) : "";
    String method = slash >= 0 ? path.substring(slash + 1) : path;
    List<AuthorizationRule> matching = table.getRulesList().stream()
        .filter(rule -> callerMatches(rule, caller) && callMatches(rule, service, method)).toList();
    Optional<AuthorizationRule> denying = matching.stream().filter(AuthorizationRule::getDeny).findFirst();
    if (denying.isPresent()) {
      return new Decision(false, denying.get().getPolicy(), "a deny rule");
    }
    if (!matching.isEmpty() || !table.getDefaultDeny()) {
      return Decision.ALLOWED;
    }
    return new Decision(false, String.join(", ", table.getDefaultDenyPoliciesList()), "its default (no rule allows it)");
  }

  private static boolean callerMatches(AuthorizationRule rule, Optional<SpiffeId> caller) {
    return rule.getFromCount() == 0
        || caller.isPresent() && rule.getFromList().stream().anyMatch(match -> matches(match, caller.get()));
  }

  private static boolean matches(CallerMatch match, SpiffeId caller) {
    return (match.getIdentity().isEmpty() || match.getIdentity().equals(caller.uri()))
        && (match.getNamespace().isEmpty() || match.getNamespace().equals(caller.namespace()))
        && (match.getServiceAccount().isEmpty() || match.getServiceAccount().equals(caller.serviceAccount()));
  }

  private static boolean callMatches(AuthorizationRule rule, String service, String method) {
    return rule.getToCount() == 0 || rule.getToList().stream().anyMatch(match -> matches(match, service, method));
  }

  private static boolean matches(MethodMatch match, String service, String method) {
    return match.getGrpcService().equals(service)
        && (match.getMethodsCount() == 0 || match.getMethodsList().contains(method));
  }
}
