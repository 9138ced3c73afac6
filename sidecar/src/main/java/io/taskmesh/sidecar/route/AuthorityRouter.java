package io.taskmesh.sidecar.route;

import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.concrete.Backend;
import io.taskmesh.sidecar.concrete.Backends;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Outbound routing by {@code :authority}: {@code svc}, {@code svc.ns}, {@code svc.ns.svc.cluster.local},
 * each with or without {@code :port}, all name the service {@code svc}. A service is routed when discovery
 * knows its cluster or the config routes it by rules (then its rules pick the backends).
 */
public final class AuthorityRouter implements Router {
  private final ClusterManager clusters;
  private final Predicate<String> routedByRules;
  /** One route per service, made on its first request; its backend is the service's own cluster. */
  private final Map<String, Route> routes = new ConcurrentHashMap<>();

  /** @param routedByRules whether the config in force has route rules for a service */
  public AuthorityRouter(ClusterManager clusters, Predicate<String> routedByRules) {
    this.clusters = clusters;
    this.routedByRules = routedByRules;
  }

  @Override
  public Optional<Route> route(Http2Headers requestHeaders) {
    String service = serviceName(describeTarget(requestHeaders));
    if (clusters.cluster(service).isEmpty() && !routedByRules.test(service)) {
      return Optional.empty();
    }
    return Optional.of(routes.computeIfAbsent(service,
        name -> new Route(name, Backends.single(new Backend(name, 1, clusters)))));
  }

  @Override
  public String describeTarget(Http2Headers requestHeaders) {
    CharSequence authority = requestHeaders.authority();
    if (authority == null) {
      authority = requestHeaders.get("host");
    }
    return authority == null ? "" : authority.toString();
  }

  /** The cluster an authority or a discovery name ({@code svc}, {@code svc.ns[...]}, with or without port) names. */
  public static String serviceName(String authority) {
    String host = authority;
    int colon = host.lastIndexOf(':');
    if (colon >= 0 && host.indexOf(']') < colon) {
      host = host.substring(0, colon);
    }
    int dot = host.indexOf('.');
    return (dot < 0 ? host : host.substring(0, dot)).toLowerCase(java.util.Locale.ROOT);
  }
}
