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
 * each with or without {@code :port}, all name the service {@code svc}, unless a cluster is named {@code svc.ns}
 * itself (a static endpoint map may name a service of another namespace so, as a gateway route does): then that
 * one. A service is routed when discovery knows its cluster or the config routes it by rules (then its rules pick
 * the backends).
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
    String target = describeTarget(requestHeaders);
    String qualified = qualifiedName(target);
    String service = clusters.cluster(qualified).isPresent() ? qualified : serviceName(target);
    if (clusters.cluster(service).isEmpty() && !routedByRules.test(service)) {
      return Optional.empty();
    }
    Route route = routes.get(service); // a capturing lambda only on a miss: each one is an allocation
    if (route == null) {
      route = routes.computeIfAbsent(service, name -> new Route(name, Backends.single(new Backend(name, 1, clusters))));
    }
    return Optional.of(route);
  }

  @Override
  public String describeTarget(Http2Headers requestHeaders) {
    CharSequence authority = requestHeaders.authority();
    if (authority == null) {
      authority = requestHeaders.get("host");
    }
    return authority == null ? "" : authority.toString();
  }

  /** {@code svc.ns} of an authority that names a namespace ({@code svc.ns[.svc.cluster.local]}), else its host. */
  private static String qualifiedName(String authority) {
    String host = hostOf(authority);
    int first = host.indexOf('.');
    int second = first < 0 ? -1 : host.indexOf('.', first + 1);
    return (second < 0 ? host : host.substring(0, second)).toLowerCase(java.util.Locale.ROOT);
  }

  private static String hostOf(String authority) {
    int colon = authority.lastIndexOf(':');
    return colon >= 0 && authority.indexOf(']') < colon ? authority.substring(0, colon) : authority;
  }

  /** The cluster an authority or a discovery name ({@code svc}, {@code svc.ns[...]}, with or without port) names. */
  public static String serviceName(String authority) {
    String host = hostOf(authority);
    int dot = host.indexOf('.');
    return (dot < 0 ? host : host.substring(0, dot)).toLowerCase(java.util.Locale.ROOT);
  }
}
