package io.taskmesh.sidecar;

import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.listener.ProxyChain;
import io.taskmesh.sidecar.route.FixedRouter;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.Retries;
import java.time.Duration;
import io.taskmesh.sidecar.route.Route;
import java.util.List;

/** mesh → app: filters, then the one cluster holding the local app (no retries or route timeouts: the caller's side has them). */
public final class InboundChain {
  private InboundChain() {}

  public static ProxyChain assemble(String service, Cluster localApp, List<StreamFilter> filters) {
    return new ProxyChain("inbound", "server-sidecar", filters, new FixedRouter(new Route(service, localApp)),
        Retries.NONE, MethodCatalog.NONE, anyService -> Duration.ZERO);
  }
}
