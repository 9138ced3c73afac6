package io.taskmesh.sidecar;

import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.route.ActivePolicies;
import io.taskmesh.sidecar.route.AuthorityRouter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import java.util.List;

/** app → mesh: filters, then routing by authority to the clusters discovery feeds, under each upstream's policy. */
public final class OutboundChain {
  private OutboundChain() {}

  public static ProxyChain assemble(ClusterManager clusters, List<StreamFilter> filters, ActivePolicies policies,
      Retries retries, MethodCatalog methods) {
    return new ProxyChain("outbound", "client-sidecar", filters,
        new AuthorityRouter(clusters, service -> policies.current().hasRoutes(service)), policies.outbound(), retries,
        methods);
  }
}
