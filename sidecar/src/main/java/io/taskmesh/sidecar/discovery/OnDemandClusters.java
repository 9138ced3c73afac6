package io.taskmesh.sidecar.discovery;

import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import io.taskmesh.sidecar.discovery.OnDemandDiscovery.Resolution;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The clusters of route backends with a control plane: a held cluster at once, else subscribe and wait for
 * discovery's first answer, so a rule that has just arrived can send to a backend not yet held.
 */
public final class OnDemandClusters implements ClusterResolver {
  private final ClusterManager clusters;
  private final OnDemandDiscovery discovery;

  public OnDemandClusters(ClusterManager clusters, OnDemandDiscovery discovery) {
    this.clusters = clusters;
    this.discovery = discovery;
  }

  @Override
  public void resolve(String service, Consumer<Optional<Cluster>> then) {
    String cluster = discovery.names().of(service); // "svc.ns" names another namespace's service
    discovery.touch(cluster);
    Optional<Cluster> held = clusters.cluster(cluster);
    if (held.isPresent()) {
      then.accept(held);
      return;
    }
    discovery.resolve(cluster, null).thenAccept(resolution ->
        then.accept(resolution == Resolution.FOUND ? clusters.cluster(cluster) : Optional.empty()));
  }
}
