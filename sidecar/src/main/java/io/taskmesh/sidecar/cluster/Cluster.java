package io.taskmesh.sidecar.cluster;

import io.taskmesh.config.LoadBalancerPolicy;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The endpoints behind one service and the balancer that picks among them. An endpoint set update
 * adds new endpoints at once; removed ones stop getting requests and drain (in-flight ones finish).
 */
public final class Cluster {
  private final String service;
  private final UpstreamConnector connector;
  private volatile LoadBalancer balancer;
  private volatile List<Endpoint> active = List.of();
  private final Map<EndpointAddress, Endpoint> endpoints = new LinkedHashMap<>();
  private final List<Endpoint> draining = new ArrayList<>();

  public Cluster(String service, UpstreamConnector connector, LoadBalancerPolicy policy) {
    this.service = service;
    this.connector = connector;
    this.balancer = balancerFor(policy);
  }

  public String service() {
    return service;
  }

  public Optional<Endpoint> choose() {
    List<Endpoint> current = active;
    return current.isEmpty() ? Optional.empty() : Optional.of(balancer.choose(current));
  }

  public synchronized void useBalancer(LoadBalancerPolicy policy) {
    this.balancer = balancerFor(policy);
  }

  public synchronized void update(List<EndpointAddress> addresses) {
    Map<EndpointAddress, Endpoint> next = new LinkedHashMap<>();
    for (EndpointAddress address : addresses) {
      Endpoint existing = endpoints.remove(address);
      next.put(address, existing != null ? existing : new Endpoint(address, connector));
    }
    for (Endpoint removed : endpoints.values()) {
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
