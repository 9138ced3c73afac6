package io.taskmesh.operator.route;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCMethodMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.taskmesh.config.Header;
import io.taskmesh.config.HeaderModifier;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteMatch;
import io.taskmesh.config.RouteRule;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.route.RouteVerdict.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Turns a GRPCRoute in mesh mode (GAMMA: parentRefs to Services) into the sidecar's route rules, or into
 * the reasons it cannot be. Parents that are not core Services (a Gateway, say) belong to other
 * controllers and are left out. A pure function of the route and of which Services exist.
 */
public final class GrpcRouteTranslator {
  static final String EXACT = "Exact";
  static final String REQUEST_HEADER_MODIFIER = "RequestHeaderModifier";

  private final Predicate<ServiceKey> serviceExists;

  public GrpcRouteTranslator(Predicate<ServiceKey> serviceExists) {
    this.serviceExists = serviceExists;
  }

  /** Whether the parent is a Service, the mesh's kind of parent (Gateway API defaults kind to Gateway). */
  public static boolean isServiceParent(ParentReference ref) {
    return "".equals(Objects.requireNonNullElse(ref.getGroup(), "gateway.networking.k8s.io"))
        && "Service".equals(Objects.requireNonNullElse(ref.getKind(), "Gateway"));
  }

  public static ServiceKey parentKey(GRPCRoute route, ParentReference ref) {
    return new ServiceKey(ref.getName(),
        Objects.requireNonNullElse(ref.getNamespace(), route.getMetadata().getNamespace()));
  }

  public List<RouteVerdict> translate(GRPCRoute route) {
    List<ParentReference> parents = route.getSpec() == null ? List.of() : route.getSpec().getParentRefs();
    List<RouteVerdict> verdicts = new ArrayList<>();
    for (ParentReference ref : parents) {
      if (isServiceParent(ref)) {
        verdicts.add(verdict(route, ref));
      }
    }
    return verdicts;
  }

  private RouteVerdict verdict(GRPCRoute route, ParentReference ref) {
    ServiceKey parent = parentKey(route, ref);
    Condition resolved = new Condition(true, "ResolvedRefs", "every backendRef resolves to a Service");
    if (!serviceExists.test(parent)) {
      return new RouteVerdict(ref, parent, new Condition(false, "NoMatchingParent",
          "no Service " + parent.name() + " in namespace " + parent.namespace()), resolved, List.of());
    }
    List<RouteRule> rules = new ArrayList<>();
    List<GRPCRouteRule> specRules = route.getSpec().getRules();
    for (int i = 0; i < specRules.size(); i++) {
      String path = "spec.rules[" + i + "]";
      GRPCRouteRule rule = specRules.get(i);
      String unsupported = unsupported(rule, path);
      if (unsupported != null) {
        return new RouteVerdict(ref, parent, new Condition(false, "UnsupportedValue", unsupported), resolved,
            List.of());
      }
      Condition refs = resolve(rule, route.getMetadata().getNamespace(), path);
      if (!refs.holds()) {
        return new RouteVerdict(ref, parent, accepted(), refs, List.of());
      }
      rules.add(new RouteRule(rule.getMatches().stream().map(GrpcRouteTranslator::match).toList(),
          rule.getBackendRefs().stream().map(backend -> new RouteBackend(backend.getName(), weight(backend)))
              .toList(),
          headerModifier(rule.getFilters()), null));
    }
    return new RouteVerdict(ref, parent, accepted(), resolved, rules);
  }

  private static Condition accepted() {
    return new Condition(true, "Accepted", "the route is in force for callers of this Service");
  }

  /** The first part of the rule this implementation does not do, or {@code null}. */
  private static String unsupported(GRPCRouteRule rule, String path) {
    for (int m = 0; m < rule.getMatches().size(); m++) {
      GRPCRouteMatch match = rule.getMatches().get(m);
      String at = path + ".matches[" + m + "]";
      if (match.getMethod() != null && !EXACT.equals(typeOf(match.getMethod()))) {
        return at + ".method.type " + match.getMethod().getType() + ": only Exact is supported";
      }
      for (GRPCHeaderMatch header : match.getHeaders()) {
        if (!EXACT.equals(Objects.requireNonNullElse(header.getType(), EXACT))) {
          return at + ".headers " + header.getName() + ": type " + header.getType() + ", only Exact is supported";
        }
      }
    }
    for (GRPCRouteFilter filter : rule.getFilters()) {
      if (!REQUEST_HEADER_MODIFIER.equals(filter.getType())) {
        return path + ".filters: type " + filter.getType() + ", only RequestHeaderModifier is supported";
      }
    }
    if (rule.getBackendRefs().stream().anyMatch(backend -> !backend.getFilters().isEmpty())) {
      return path + ".backendRefs[].filters: filters per backend are not supported";
    }
    if (rule.getBackendRefs().stream().mapToInt(GrpcRouteTranslator::weight).sum() == 0) {
      return path + ".backendRefs: " + (rule.getBackendRefs().isEmpty() ? "none given"
          : "the weights add up to 0") + ", so no backend would take a request";
    }
    return null;
  }

  private Condition resolve(GRPCRouteRule rule, String routeNamespace, String path) {
    for (int b = 0; b < rule.getBackendRefs().size(); b++) {
      GRPCBackendRef backend = rule.getBackendRefs().get(b);
      String at = path + ".backendRefs[" + b + "] " + backend.getName();
      if (!"".equals(Objects.requireNonNullElse(backend.getGroup(), ""))
          || !"Service".equals(Objects.requireNonNullElse(backend.getKind(), "Service"))) {
        return new Condition(false, "InvalidKind",
            at + ": group " + backend.getGroup() + " kind " + backend.getKind() + ", only core Services are backends");
      }
      String namespace = Objects.requireNonNullElse(backend.getNamespace(), routeNamespace);
      if (!namespace.equals(routeNamespace)) {
        return new Condition(false, "RefNotPermitted", at + ": a backend in namespace " + namespace
            + " is not supported (the route's namespace is " + routeNamespace + ")");
      }
      if (!serviceExists.test(new ServiceKey(backend.getName(), namespace))) {
        return new Condition(false, "BackendNotFound", at + ": no such Service in namespace " + namespace
            + "; the route's last accepted rules stay in force");
      }
    }
    return new Condition(true, "ResolvedRefs", "every backendRef resolves to a Service");
  }

  private static String typeOf(GRPCMethodMatch method) {
    return Objects.requireNonNullElse(method.getType(), EXACT);
  }

  private static RouteMatch match(GRPCRouteMatch match) {
    GRPCMethodMatch method = match.getMethod();
    return new RouteMatch(method == null ? null : method.getService(), method == null ? null : method.getMethod(),
        match.getHeaders().stream().map(header -> new Header(header.getName(), header.getValue())).toList());
  }

  private static int weight(GRPCBackendRef backend) {
    return Objects.requireNonNullElse(backend.getWeight(), 1);
  }

  private static HeaderModifier headerModifier(List<GRPCRouteFilter> filters) {
    return filters.stream().map(GRPCRouteFilter::getRequestHeaderModifier).filter(Objects::nonNull).findFirst()
        .map(GrpcRouteTranslator::headerModifier).orElse(HeaderModifier.NONE);
  }

  private static HeaderModifier headerModifier(HTTPHeaderFilter filter) {
    return new HeaderModifier(headers(filter.getSet()), headers(filter.getAdd()), filter.getRemove());
  }

  private static List<Header> headers(List<HTTPHeader> headers) {
    return headers.stream().map(header -> new Header(header.getName(), header.getValue())).toList();
  }
}
