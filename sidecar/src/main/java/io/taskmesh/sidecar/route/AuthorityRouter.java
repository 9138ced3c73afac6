package io.taskmesh.sidecar.route;

import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.sidecar.cluster.ClusterManager;
import java.util.Optional;

/**
 * Outbound routing by {@code :authority}: {@code svc}, {@code svc.ns}, {@code svc.ns.svc.cluster.local},
 * each with or without {@code :port}, all name the cluster {@code svc}.
 */
public final class AuthorityRouter implements Router {
  private final ClusterManager clusters;

  public AuthorityRouter(ClusterManager clusters) {
    this.clusters = clusters;
  }

  @Override
  public Optional<Route> route(Http2Headers requestHeaders) {
    String service = serviceName(describeTarget(requestHeaders));
    return clusters.cluster(service).map(cluster -> new Route(service, cluster));
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
