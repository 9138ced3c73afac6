package io.taskmesh.sidecar.logical;

import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.filter.RequestInfo;

/** The answers the proxy makes itself when routing or trying a request fails; filters make their own refusals. */
final class CallErrors {
  private CallErrors() {}

  static ProxyError noRoute(RequestInfo request) {
    return request.error(ProxyError.UNAVAILABLE, "no_route",
        "no route: discovery knows no such service");
  }

  static ProxyError noEndpoints(RequestInfo request) {
    return request.error(ProxyError.UNAVAILABLE, "no_endpoints", "no endpoints available");
  }

  static ProxyError noEndpointsForRetry(RequestInfo request, int retry) {
    return request.error(ProxyError.UNAVAILABLE, "no_endpoints", "no endpoints available for retry " + retry);
  }

  static ProxyError connectFailed(RequestInfo request, Endpoint endpoint, Throwable cause, int endpointsTried) {
    return request.error(endpoint.address(), ProxyError.UNAVAILABLE, "connect_failed", "cannot connect: "
        + cause.getMessage() + (endpointsTried > 1 ? " (tried " + endpointsTried + " endpoints)" : ""));
  }

  static ProxyError perTryTimeout(RequestInfo request, Endpoint endpoint, long perTryMillis, int tries) {
    return request.error(endpoint.address(), ProxyError.DEADLINE_EXCEEDED, "per_try_timeout",
        "no answer within the per-try timeout of " + perTryMillis + " ms" + (tries > 1 ? " (" + tries + " tries)" : ""));
  }

  static ProxyError deadlineExceeded(RequestInfo request, Endpoint lastEndpoint, Deadline deadline) {
    String detail = deadline.isRouteTimeout()
        ? "route timeout of " + deadline.allowedMillis() + " ms exceeded (the caller set no deadline)"
        : "deadline of " + deadline.allowedMillis() + " ms exceeded before the response ended";
    String reason = deadline.isRouteTimeout() ? "route_timeout" : "deadline_exceeded";
    return lastEndpoint == null ? request.error(ProxyError.DEADLINE_EXCEEDED, reason, detail)
        : request.error(lastEndpoint.address(), ProxyError.DEADLINE_EXCEEDED, reason, detail);
  }

  static ProxyError streamRefused(RequestInfo request, Endpoint endpoint) {
    return request.error(endpoint.address(), ProxyError.UNAVAILABLE, "stream_refused",
        "upstream is going away and did not process the request");
  }

  static ProxyError upstreamReset(RequestInfo request, Endpoint endpoint) {
    return request.error(endpoint.address(), ProxyError.UNAVAILABLE, "upstream_reset",
        "upstream closed the stream before the response ended");
  }
}
