package io.taskmesh.sidecar.listener;

import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Router;
import java.util.List;

/**
 * The stages a listener hands each stream to: filters in order, then the router to a cluster.
 *
 * @param direction {@code inbound} or {@code outbound}, as in metrics
 * @param hop the name this proxy gives itself in errors: {@code client-sidecar} or {@code server-sidecar}
 * @param retries when a failed try is tried again; {@link Retries#NONE} on the inbound side
 */
public record ProxyChain(String direction, String hop, List<StreamFilter> filters, Router router, Retries retries) {
  public ProxyChain {
    filters = List.copyOf(filters);
  }
}
