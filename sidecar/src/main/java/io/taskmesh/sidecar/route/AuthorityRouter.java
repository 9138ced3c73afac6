package io.taskmesh.sidecar.route;

import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.sidecar.cluster.ClusterManager;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Outbound routing by {@code :authority}: {@code svc}, {@code svc.ns}, {@code svc.ns.svc.cluster.local},
 * each with or without {@code :port}, all name the cluster {@code svc}.
 */
public final class AuthorityRouter implements Router {
  private final ClusterManager clusters;
  /** One route per service that has a cluster, made on its first request (clusters are never removed). */
  private final Map<String, Route> routes = new ConcurrentHashMap<>();

  public AuthorityRouter(ClusterManager clusters) {
    this.clusters = clusters;
  }

  @Override
  public Optional<Route> route(Http2Headers requestHeaders) {
    String service = serviceName(describeTarget(requestHeaders));
    Route known = routes.get(service);
    if (known != null) {
      return Optional.of(known);
    }
    return clusters.cluster(service).map(cluster -> routes.computeIfAbsent(service, name -> new Route(name, cluster)));
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
