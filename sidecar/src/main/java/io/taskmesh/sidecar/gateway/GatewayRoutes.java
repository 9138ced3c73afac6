package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.GatewayRoute;
import io.taskmesh.sidecar.discovery.ServiceNames;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The configured routes: the longest path prefix among those whose host matches; at equal prefixes a route
 * naming the host wins over one without host (which matches any).
 */
final class GatewayRoutes {
  private final ServiceNames names;
  private volatile List<GatewayRoute> routes;

  /** @param names how the proxy names the clusters of route services in its namespace and in others */
  GatewayRoutes(List<GatewayRoute> routes, ServiceNames names) {
    this.names = names;
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

  /** The cluster of a route's service: {@code task-service.prod}'s, unless prod is the gateway's own namespace. */
  String clusterOf(String service) {
    return names.of(service);
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
