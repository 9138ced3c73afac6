package io.taskmesh.sidecar.route;

import io.netty.handler.codec.http2.Http2Headers;
import java.util.Optional;

/** Picks the cluster of a request from its headers; empty when no route matches. */
public interface Router {
  Optional<Route> route(Http2Headers requestHeaders);

  /** What the caller asked for, for error messages (e.g. the authority). */
  String describeTarget(Http2Headers requestHeaders);
}
