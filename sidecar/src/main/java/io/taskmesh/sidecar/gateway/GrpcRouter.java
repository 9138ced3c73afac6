package io.taskmesh.sidecar.gateway;

import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.route.Route;
import io.taskmesh.sidecar.route.Router;
import java.util.Optional;

/**
 * Routes plain gRPC calls on the gateway port by the same routes as HTTP requests: the gRPC path
 * ({@code /taskservice.TaskService/GetTask}) against each route's path prefix, then the route's cluster.
 */
final class GrpcRouter implements Router {
  private final GatewayRoutes routes;
  private final ClusterManager clusters;

  GrpcRouter(GatewayRoutes routes, ClusterManager clusters) {
    this.routes = routes;
    this.clusters = clusters;
  }

  @Override
  public Optional<Route> route(Http2Headers requestHeaders) {
    return routes.match(String.valueOf(requestHeaders.authority()), String.valueOf(requestHeaders.path()))
        .flatMap(route -> clusters.cluster(routes.clusterOf(route.service()))
            .map(cluster -> new Route(routes.clusterOf(route.service()), cluster)));
  }

  /** The routed service, or {@code none}: never the caller's path, which would mint a metric series per path. */
  @Override
  public String describeTarget(Http2Headers requestHeaders) {
    return routes.match(String.valueOf(requestHeaders.authority()), String.valueOf(requestHeaders.path()))
        .map(route -> routes.clusterOf(route.service()))
        .orElse("none");
  }
}
