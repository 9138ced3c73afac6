package io.taskmesh.operator.route;

import io.taskmesh.config.RouteRule;
import io.taskmesh.operator.discovery.ServiceKey;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * The route table of every parent service (the rules of the GRPCRoutes attached to it, in precedence
 * order), each stamped with a version that only grows. Fed by {@link GrpcRouteController}; read by whoever
 * delivers tables to the sidecars that call the service.
 */
public final class RouteTables {

  /** One service's rules at one version; no rules means the service's own endpoints take every request. */
  public record Table(long version, List<RouteRule> rules) {
    public Table {
      rules = List.copyOf(rules);
    }
  }

  private final Map<ServiceKey, Table> tables = new ConcurrentHashMap<>();
  private final List<BiConsumer<ServiceKey, Table>> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong versions = new AtomicLong();

  /** Replaces the service's rules; listeners hear of it only if something changed. */
  public void update(ServiceKey service, List<RouteRule> rules) {
    Table next;
    synchronized (this) {
      Table current = current(service);
      if (current.rules().equals(rules)) {
        return;
      }
      next = new Table(versions.incrementAndGet(), rules);
      tables.put(service, next); // an emptied table stays, so its version keeps growing
    }
    listeners.forEach(listener -> listener.accept(service, next));
  }

  /** The services that have rules now. */
  public Set<ServiceKey> services() {
    return tables.entrySet().stream().filter(entry -> !entry.getValue().rules().isEmpty())
        .map(Map.Entry::getKey).collect(Collectors.toUnmodifiableSet());
  }

  public Table current(ServiceKey service) {
    return tables.getOrDefault(service, new Table(0, List.of()));
  }

  public void onChange(BiConsumer<ServiceKey, Table> listener) {
    listeners.add(listener);
  }

  public void removeListener(BiConsumer<ServiceKey, Table> listener) {
    listeners.remove(listener);
  }
}
