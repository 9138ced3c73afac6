package io.taskmesh.operator.discovery;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.config.RouteTableMessages;
import io.taskmesh.operator.route.RouteTables;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Streams endpoint sets to sidecars. Each SubscribeRequest on a stream replaces the previous one: a service it
 * newly names gets its current set at once (or {@code unknown}), then each change; a service it no longer names
 * is no longer sent. A sidecar that calls nothing still subscribes (with no services) so that the config hash it
 * runs is known, and each request it sends after a reload tells {@code acks} the hash it now runs. A sidecar that
 * reads slowly gets only the newest set of each service (sets are whole state, so older ones waiting to be sent
 * are simply replaced), which bounds what it can hold up.
 */
public final class DiscoveryService extends EndpointDiscoveryGrpc.EndpointDiscoveryImplBase {
  private final EndpointRegistry registry;
  private final RouteTables routes;
  private final Consumer<Node> acks;
  private final Map<Subscription, Node> subscribers = new ConcurrentHashMap<>();

  /**
   * @param routes each service's route table, sent with its endpoints
   * @param acks told the node of every request, i.e. each config hash a sidecar announces (see {@link PodAcks})
   */
  public DiscoveryService(EndpointRegistry registry, RouteTables routes, Consumer<Node> acks) {
    this.registry = registry;
    this.routes = routes;
    this.acks = acks;
  }

  /** The sidecars subscribed now, with the config hash each reported last. */
  public Set<Node> subscribers() {
    return Set.copyOf(subscribers.values());
  }

  @Override
  public StreamObserver<SubscribeRequest> subscribe(StreamObserver<EndpointSet> responses) {
    ServerCallStreamObserver<EndpointSet> call = (ServerCallStreamObserver<EndpointSet>) responses;
    Subscription subscription = new Subscription(call);
    BiConsumer<ServiceKey, EndpointRegistry.Versioned> listener = (service, set) -> subscription.changed(service);
    BiConsumer<ServiceKey, RouteTables.Table> routeListener = (service, table) -> subscription.changed(service);
    Runnable leave = () -> {
      registry.removeListener(listener);
      routes.removeListener(routeListener);
      subscribers.remove(subscription);
    };
    call.setOnCancelHandler(leave::run);
    call.setOnReadyHandler(subscription::drain);
    registry.onChange(listener);
    routes.onChange(routeListener);
    return new StreamObserver<>() {
      @Override
      public void onNext(SubscribeRequest request) {
        Node node = request.getNode();
        if (node.getNamespace().isEmpty() && request.getServicesList().stream().anyMatch(s -> !s.contains("."))) {
          leave.run();
          call.onError(Status.INVALID_ARGUMENT.withDescription(
              "node.namespace: required to resolve unqualified service names " + request.getServicesList())
              .asRuntimeException());
          return;
        }
        subscribers.put(subscription, node);
        subscription.replace(request);
        acks.accept(node);
      }

      @Override
      public void onError(Throwable error) {
        leave.run();
      }

      @Override
      public void onCompleted() {
        leave.run();
        call.onCompleted();
      }
    };
  }

  /** What one stream asks for now: each entry by the label the sidecar used (a name, or an address). */
  private final class Subscription {
    private final ServerCallStreamObserver<EndpointSet> call;
    private Map<String, Wanted> wanted = Map.of();
    private String namespace = "";
    private final Map<String, EndpointSet> pending = new LinkedHashMap<>();
    private final Map<String, Long> sent = new ConcurrentHashMap<>();

    private record Wanted(Optional<ServiceKey> service, boolean byAddress) {}

    Subscription(ServerCallStreamObserver<EndpointSet> call) {
      this.call = call;
    }

    synchronized void replace(SubscribeRequest request) {
      namespace = request.getNode().getNamespace();
      Map<String, Wanted> next = new LinkedHashMap<>();
      for (String name : request.getServicesList()) {
        next.put(name, new Wanted(Optional.of(ServiceKey.resolve(name, namespace)), false));
      }
      for (String address : request.getAddressesList()) {
        next.put(address, new Wanted(registry.serviceAt(address), true));
      }
      Map<String, Wanted> previous = wanted;
      wanted = next;
      pending.keySet().retainAll(next.keySet());
      sent.keySet().retainAll(next.keySet());
      next.forEach((label, entry) -> {
        if (!previous.containsKey(label)) {
          enqueue(label, entry, entry.service().map(registry::current).orElse(null));
        }
      });
      drain();
    }

    /** The service's endpoints or routes changed: its current state goes to every label naming it. */
    synchronized void changed(ServiceKey service) {
      EndpointRegistry.Versioned set = registry.current(service);
      long version = set.version() + routes.current(service).version();
      wanted.forEach((label, entry) -> {
        if (entry.service().filter(service::equals).isPresent() && version >= sent.getOrDefault(label, -1L)) {
          enqueue(label, entry, set);
        }
      });
      drain();
    }

    /** {@code set} null or never seen: the control plane knows no such service. */
    private void enqueue(String label, Wanted entry, EndpointRegistry.Versioned set) {
      EndpointSet.Builder message = EndpointSet.newBuilder();
      if (entry.byAddress()) {
        message.setAddress(label);
      }
      if (set == null || !entry.service().map(registry::knows).orElse(false)) {
        pending.put(label, message.setService(entry.byAddress() ? "" : label).setNamespace(namespace)
            .setUnknown(true).build());
        return;
      }
      ServiceKey service = entry.service().orElseThrow();
      RouteTables.Table table = routes.current(service);
      // both versions only grow per service, so their sum grows with every change of either
      pending.put(label, message
          .setService(entry.byAddress() ? service.name() + "." + service.namespace() : label)
          .setNamespace(service.namespace())
          .setVersion(set.version() + table.version())
          .addAllEndpoints(set.endpoints())
          .setRoutes(RouteTableMessages.toMessage(table.version(), table.rules()))
          .build());
    }

    synchronized void drain() {
      var iterator = pending.entrySet().iterator();
      while (call.isReady() && !call.isCancelled() && iterator.hasNext()) {
        var next = iterator.next();
        iterator.remove();
        sent.put(next.getKey(), next.getValue().getVersion());
        call.onNext(next.getValue());
      }
    }
  }
}
