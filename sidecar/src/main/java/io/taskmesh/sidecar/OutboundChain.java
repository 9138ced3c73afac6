package io.taskmesh.sidecar;

import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.route.ActivePolicies;
import io.taskmesh.sidecar.route.AuthorityRouter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import io.taskmesh.sidecar.discovery.OnDemandDiscovery;
import io.taskmesh.sidecar.discovery.OnDemandRouter;
import io.taskmesh.sidecar.route.Router;
import java.util.List;
import java.util.Optional;

/**
 * app → mesh: filters, then routing by authority to the clusters discovery feeds, under each upstream's policy.
 * With a control plane the router subscribes on demand ({@link OnDemandRouter}); with a static map it routes
 * to the clusters that map made.
 */
public final class OutboundChain {
  private OutboundChain() {}

  public static ProxyChain assemble(ClusterManager clusters, Optional<OnDemandDiscovery> onDemand,
      List<StreamFilter> filters, ActivePolicies policies, Retries retries, MethodCatalog methods) {
    Router router = onDemand.<Router>map(discovery -> new OnDemandRouter(clusters, discovery, Optional.empty()))
        .orElseGet(() -> new AuthorityRouter(clusters, service -> policies.current().hasRoutes(service)));
    return new ProxyChain("outbound", "client-sidecar", filters, router, policies.outbound(), retries, methods);
  }
}
