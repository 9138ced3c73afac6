package io.taskmesh.sidecar.filter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.sidecar.authz.ActiveAuthorization;
import io.taskmesh.sidecar.authz.InboundAuthorization;
import io.taskmesh.sidecar.codec.ProxyError;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The inbound authorization: a call the policies in force refuse is answered PERMISSION_DENIED by this hop
 * ({@code reason=unauthorized}), naming the caller's identity (or {@code unauthenticated}) and the policy, and
 * counted in {@code taskmesh_authorization_denied_total{service,policy}} (policies are objects of the cluster,
 * so the label stays bounded).
 */
public final class AuthorizationFilter implements StreamFilter {
  private final MeterRegistry registry;
  private final ActiveAuthorization authorization;
  private final Map<String, Counter> denied = new ConcurrentHashMap<>();

  public AuthorizationFilter(MeterRegistry registry, ActiveAuthorization authorization) {
    this.registry = registry;
    this.authorization = authorization;
  }

  @Override
  public Optional<ProxyError> onRequest(RequestInfo request) {
    InboundAuthorization.Decision decision = authorization.current().decide(request.peer(), request.method());
    if (decision.allowed()) {
      return Optional.empty();
    }
    denied.computeIfAbsent(request.service() + "\n" + decision.policy(), key -> Counter
        .builder("taskmesh.authorization.denied").tag("service", request.service()).tag("policy", decision.policy())
        .register(registry)).increment();
    String caller = request.peer().map(Object::toString).orElse("unauthenticated");
    return Optional.of(request.error(ProxyError.PERMISSION_DENIED, "unauthorized", "caller " + caller
        + " may not call " + request.method() + ": refused by " + decision.why() + " of AuthorizationPolicy "
        + decision.policy()));
  }
}
