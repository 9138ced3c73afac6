package io.taskmesh.sidecar.cluster;

import io.taskmesh.config.LoadBalancerPolicy;
import io.taskmesh.config.UpstreamPolicy;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The endpoints behind one service and the balancer that picks among them. An endpoint set update
 * adds new endpoints at once; removed ones stop getting requests and drain (in-flight ones finish).
 * Endpoints that keep failing (connect refused, reset) are ejected for a while by the outlier detector.
 */
public final class Cluster {
  private final String service;
  private final UpstreamConnector connector;
  private volatile LoadBalancer balancer;
  private volatile List<Endpoint> active = List.of();
  private final Map<EndpointAddress, Endpoint> endpoints = new LinkedHashMap<>();
  private final List<Endpoint> draining = new ArrayList<>();
  private final OutlierDetector<Endpoint> outliers;

  /** @param policy the service's policy in force: its balancer and outlier detection apply here */
  public Cluster(String service, UpstreamConnector connector, UpstreamPolicy policy) {
    this.service = service;
    this.connector = connector;
    this.balancer = balancerFor(policy.loadBalancer());
    this.outliers = new OutlierDetector<>(policy.outlierDetection(), System::nanoTime);
  }

  public String service() {
    return service;
  }

  public Optional<Endpoint> choose() {
    return choose(Set.of());
  }

  /**
   * An endpoint not at the host and port of one in {@code excluded} (those a request already failed to reach),
   * skipping ejected ones unless every candidate is ejected: then any candidate is better than none. By host and
   * port, since an update that changes only an endpoint's identity (its pod is going away, say) makes it a new
   * endpoint of the same place, which would fail the same way.
   */
  public Optional<Endpoint> choose(Set<Endpoint> excluded) {
    List<Endpoint> current = active;
    if (excluded.isEmpty() && !outliers.hasEjections()) {
      return current.isEmpty() ? Optional.empty() : Optional.of(balancer.choose(current));
    }
    List<Endpoint> candidates = current.stream()
        .filter(e -> excluded.stream().noneMatch(tried -> tried.address().samePlaceAs(e.address()))).toList();
    List<Endpoint> healthy = candidates.stream().filter(e -> !outliers.isEjected(e)).toList();
    List<Endpoint> pool = healthy.isEmpty() ? candidates : healthy;
    return pool.isEmpty() ? Optional.empty() : Optional.of(balancer.choose(pool));
  }

  /** An active endpoint not ejected, without counting as a pick of the balancer (for side requests). */
  public Optional<Endpoint> anyHealthy() {
    return active.stream().filter(endpoint -> !outliers.isEjected(endpoint)).findFirst();
  }

  /** The endpoint answered: its run of failures ends. */
  public void onSuccess(Endpoint endpoint) {
    outliers.onSuccess(endpoint);
  }

  /** The endpoint could not be reached or reset the stream. */
  public void onFailure(Endpoint endpoint) {
    outliers.onFailure(endpoint, active.size());
  }

  public boolean isEjected(Endpoint endpoint) {
    return outliers.isEjected(endpoint);
  }

  /**
   * A reloaded policy. A new balancer starts with no history; the outlier detector keeps its counts and
   * ejections and judges the next failures by the new policy.
   */
  public synchronized void usePolicy(UpstreamPolicy policy) {
    this.balancer = balancerFor(policy.loadBalancer());
    outliers.usePolicy(policy.outlierDetection());
  }

  public synchronized void update(List<EndpointAddress> addresses) {
    Map<EndpointAddress, Endpoint> next = new LinkedHashMap<>();
    for (EndpointAddress address : addresses) {
      Endpoint existing = endpoints.remove(address);
      next.put(address, existing != null ? existing : new Endpoint(address, connector));
    }
    for (Endpoint removed : endpoints.values()) {
      outliers.remove(removed);
      removed.drain();
      draining.add(removed);
    }
    draining.removeIf(endpoint -> endpoint.outstanding() == 0 && endpoint.connections() == 0);
    endpoints.clear();
    endpoints.putAll(next);
    active = List.copyOf(next.values());
  }

  /** Active endpoints first, then the ones still draining. */
  public synchronized List<Endpoint> endpoints() {
    List<Endpoint> all = new ArrayList<>(endpoints.values());
    all.addAll(draining);
    return all;
  }

  private static LoadBalancer balancerFor(LoadBalancerPolicy policy) {
    return policy == LoadBalancerPolicy.ROUND_ROBIN ? new RoundRobinBalancer() : new P2cEwmaBalancer();
  }
}
