package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.GatewayRoute;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The configured routes: the longest path prefix among those whose host matches; at equal prefixes a route
 * naming the host wins over one without host (which matches any).
 */
final class GatewayRoutes {
  private volatile List<GatewayRoute> routes;

  GatewayRoutes(List<GatewayRoute> routes) {
    use(routes);
  }

  /** Hot reload: later requests see the new routes. */
  void use(List<GatewayRoute> newRoutes) {
    routes = newRoutes.stream()
        .sorted(Comparator.comparingInt((GatewayRoute route) -> route.pathPrefix().length())
            .thenComparing(route -> route.host() != null)
            .reversed())
        .toList();
  }

  List<GatewayRoute> all() {
    return routes;
  }

  /** @param host the request's Host or :authority, with or without port; may be null */
  Optional<GatewayRoute> match(String host, String path) {
    String hostName = hostName(host);
    return routes.stream()
        .filter(route -> route.host() == null || route.host().equalsIgnoreCase(hostName))
        .filter(route -> path.startsWith(route.pathPrefix()))
        .findFirst();
  }

  /** The cluster of a route's service: {@code task-service.prod} is served by cluster {@code task-service}. */
  static String clusterOf(String service) {
    int dot = service.indexOf('.');
    return dot < 0 ? service : service.substring(0, dot);
  }

  private static String hostName(String host) {
    if (host == null) {
      return "";
    }
    int colon = host.lastIndexOf(':');
    String name = colon >= 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
    return name.toLowerCase(Locale.ROOT);
  }
}
