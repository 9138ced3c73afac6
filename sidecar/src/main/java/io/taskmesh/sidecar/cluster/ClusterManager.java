package io.taskmesh.sidecar.cluster;

import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import io.taskmesh.sidecar.discovery.EndpointListener;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/** All clusters of one side of the proxy, fed by discovery. */
public final class ClusterManager implements EndpointListener, ClusterResolver {
  private final UpstreamConnector connector;
  private volatile Function<String, UpstreamPolicy> policies;
  private final Map<String, Cluster> clusters = new ConcurrentHashMap<>();
  private final Consumer<Cluster> onNewCluster;
  private final Consumer<Cluster> onRemovedCluster;

  /**
   * @param onNewCluster told once about each cluster discovery creates (e.g. to register its metrics)
   * @param onRemovedCluster told when one is forgotten (to remove them)
   */
  public ClusterManager(UpstreamConnector connector, Function<String, UpstreamPolicy> policies,
      Consumer<Cluster> onNewCluster, Consumer<Cluster> onRemovedCluster) {
    this.connector = connector;
    this.policies = policies;
    this.onNewCluster = onNewCluster;
    this.onRemovedCluster = onRemovedCluster;
  }

  public Optional<Cluster> cluster(String service) {
    return Optional.ofNullable(clusters.get(service));
  }

  /** The clusters discovery has fed so far, at once: a service discovery never named has none. */
  @Override
  public void resolve(String service, Consumer<Optional<Cluster>> then) {
    then.accept(cluster(service));
  }

  public Map<String, Cluster> clusters() {
    return Map.copyOf(clusters);
  }

  @Override
  public void onEndpoints(String service, List<EndpointAddress> endpoints) {
    Cluster cluster = clusters.computeIfAbsent(service, name -> {
      Cluster created = new Cluster(name, connector, policies.apply(name));
      onNewCluster.accept(created);
      return created;
    });
    cluster.update(endpoints);
  }

  /** Forgets {@code service} (discovery no longer follows it): its endpoints drain, its cluster is gone. */
  public void remove(String service) {
    Cluster removed = clusters.remove(service);
    if (removed != null) {
      removed.update(List.of());
      onRemovedCluster.accept(removed);
    }
  }

  /** A new config's balancer and outlier detection policies, applied to existing clusters too. */
  public void usePolicies(Function<String, UpstreamPolicy> newPolicies) {
    this.policies = newPolicies;
    clusters.forEach((service, cluster) -> cluster.usePolicy(newPolicies.apply(service)));
  }
}
