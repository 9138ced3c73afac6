package io.taskmesh.sidecar;

import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.route.ActivePolicies;
import io.taskmesh.sidecar.route.FixedRouter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.route.Route;
import java.util.List;

/**
 * mesh → app: filters, then the one cluster holding the local app, under the pod's inbound policy (no
 * retries or route timeouts: the caller's side has them).
 */
public final class InboundChain {
  private InboundChain() {}

  public static ProxyChain assemble(String service, Cluster localApp, List<StreamFilter> filters,
      ActivePolicies policies) {
    return new ProxyChain("inbound", "server-sidecar", filters, new FixedRouter(new Route(service, localApp)),
        policies.inbound(), Retries.NONE, MethodCatalog.NONE);
  }
}
