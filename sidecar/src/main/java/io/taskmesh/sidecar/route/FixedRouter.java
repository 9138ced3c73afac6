package io.taskmesh.sidecar.route;

import io.netty.handler.codec.http2.Http2Headers;
import java.util.Optional;

/** Inbound routing: every request goes to the local app, whatever authority it carries. */
public final class FixedRouter implements Router {
  private final Route route;

  public FixedRouter(Route route) {
    this.route = route;
  }

  @Override
  public Optional<Route> route(Http2Headers requestHeaders) {
    return Optional.of(route);
  }

  @Override
  public String describeTarget(Http2Headers requestHeaders) {
    return route.service();
  }
}
