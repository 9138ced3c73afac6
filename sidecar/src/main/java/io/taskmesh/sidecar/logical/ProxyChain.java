package io.taskmesh.sidecar.logical;

import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.route.ActivePolicies;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Router;
import java.util.List;

/**
 * The stages a listener hands each stream to: filters in order, then the router to the route's backends.
 *
 * @param direction {@code inbound}, {@code outbound} or {@code gateway}, as in metrics
 * @param hop the name this proxy gives itself in the errors it answers: {@code client-sidecar},
 *     {@code server-sidecar} or {@code gateway}
 * @param policies where a request finds its policy, once, when it starts
 * @param retries the retry budgets; {@link Retries#NONE} on the inbound side
 * @param methods which upstream methods are unary or idempotent; {@link MethodCatalog#NONE} on the inbound side
 */
public record ProxyChain(String direction, String hop, List<StreamFilter> filters, Router router,
    ActivePolicies.Lookup policies, Retries retries, MethodCatalog methods) {
  public ProxyChain {
    filters = List.copyOf(filters);
  }

  /** The same filters, policies and retries for another listener that routes by its own rules (the gateway). */
  public ProxyChain routedBy(String direction, String hop, Router router) {
    return new ProxyChain(direction, hop, filters, router, policies, retries, methods);
  }
}
