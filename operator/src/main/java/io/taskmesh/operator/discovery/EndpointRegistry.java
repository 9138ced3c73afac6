package io.taskmesh.operator.discovery;

import io.taskmesh.discovery.v1.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * The current endpoints of every service, each set stamped with a version that only grows. Fed by
 * EndpointSlices in a cluster, or by a static map on one machine; read by the discovery service.
 */
public final class EndpointRegistry {

  /** One service's endpoints at one version. */
  public record Versioned(long version, List<Endpoint> endpoints) {}

  private final Map<ServiceKey, Versioned> sets = new ConcurrentHashMap<>();
  private final List<BiConsumer<ServiceKey, Versioned>> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong versions = new AtomicLong();
  private volatile Map<String, ServiceKey> addresses = Map.of();

  /** Replaces the service's endpoints; listeners hear of it only if something changed. */
  public void update(ServiceKey service, List<Endpoint> endpoints) {
    Versioned next;
    synchronized (this) {
      Versioned current = sets.get(service);
      if (current != null && current.endpoints().equals(endpoints)) {
        return;
      }
      next = new Versioned(versions.incrementAndGet(), List.copyOf(endpoints));
      sets.put(service, next);
    }
    listeners.forEach(listener -> listener.accept(service, next));
  }

  /** The service is gone: subscribers get an empty set. */
  public void remove(ServiceKey service) {
    update(service, List.of());
  }

  /** Whether the service exists (it has had EndpointSlices, even empty ones), as opposed to a name nobody serves. */
  public boolean knows(ServiceKey service) {
    return sets.containsKey(service);
  }

  /** Replaces the map of ClusterIP:port ({@code "10.96.0.12:50051"}) to the Service behind it. */
  public void useAddresses(Map<String, ServiceKey> clusterAddresses) {
    this.addresses = Map.copyOf(clusterAddresses);
  }

  /** The Service whose ClusterIP and port are {@code address} ({@code ip:port}), if any. */
  public Optional<ServiceKey> serviceAt(String address) {
    return Optional.ofNullable(addresses.get(address));
  }

  public Versioned current(ServiceKey service) {
    return sets.getOrDefault(service, new Versioned(0, List.of()));
  }

  public void onChange(BiConsumer<ServiceKey, Versioned> listener) {
    listeners.add(listener);
  }

  public void removeListener(BiConsumer<ServiceKey, Versioned> listener) {
    listeners.remove(listener);
  }
}
