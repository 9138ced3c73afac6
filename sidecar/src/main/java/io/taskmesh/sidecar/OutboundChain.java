package io.taskmesh.sidecar;

import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.listener.ProxyChain;
import io.taskmesh.sidecar.route.AuthorityRouter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import java.time.Duration;
import java.util.function.Function;
import java.util.List;

/** app → mesh: filters, then routing by authority to the clusters discovery feeds. */
public final class OutboundChain {
  private OutboundChain() {}

  public static ProxyChain assemble(ClusterManager clusters, List<StreamFilter> filters, Retries retries,
      MethodCatalog methods, Function<String, Duration> routeTimeouts) {
    return new ProxyChain("outbound", "client-sidecar", filters, new AuthorityRouter(clusters), retries, methods,
        routeTimeouts);
  }
}
