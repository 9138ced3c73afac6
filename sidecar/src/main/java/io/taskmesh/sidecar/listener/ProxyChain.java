package io.taskmesh.sidecar.listener;

import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import java.time.Duration;
import java.util.function.Function;
import io.taskmesh.sidecar.route.Router;
import java.util.List;

/**
 * The stages a listener hands each stream to: filters in order, then the router to a cluster.
 *
 * @param direction {@code inbound} or {@code outbound}, as in metrics
 * @param hop the name this proxy gives itself in errors: {@code client-sidecar} or {@code server-sidecar}
 * @param retries when a failed try is tried again; {@link Retries#NONE} on the inbound side
 * @param methods which upstream methods are unary or idempotent; {@link MethodCatalog#NONE} on the inbound side
 * @param routeTimeouts the timeout of a unary call to a service when the caller set no deadline (zero: none)
 */
public record ProxyChain(String direction, String hop, List<StreamFilter> filters, Router router, Retries retries,
    MethodCatalog methods, Function<String, Duration> routeTimeouts) {
  public ProxyChain {
    filters = List.copyOf(filters);
  }
}
