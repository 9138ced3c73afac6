package io.taskmesh.sidecar.filter;

import io.taskmesh.sidecar.codec.ProxyError;
import java.util.Optional;

/**
 * One concern applied to every request of a chain (metrics now; rate limit, tracing, circuit breaking
 * later). Filters see requests and outcomes, never Netty pipelines.
 */
public interface StreamFilter {
  /** Before the request is sent on; an error ends it here with that answer. */
  default Optional<ProxyError> onRequest(RequestInfo request) {
    return Optional.empty();
  }

  /** Once per request, when it is over (also for proxy-made answers and resets). */
  default void onComplete(RequestInfo request, Outcome outcome) {}
}
