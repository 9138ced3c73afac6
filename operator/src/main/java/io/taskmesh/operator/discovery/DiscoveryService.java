package io.taskmesh.operator.discovery;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Streams endpoint sets to sidecars: on subscribe the current set of every named service at once, then
 * each change. A sidecar that calls nothing still subscribes (with no services) so that the config hash
 * it runs is known. A sidecar that reads slowly gets only the newest set of each service (sets are whole
 * state, so older ones waiting to be sent are simply replaced), which bounds what it can hold up.
 */
public final class DiscoveryService extends EndpointDiscoveryGrpc.EndpointDiscoveryImplBase {
  private final EndpointRegistry registry;
  private final Set<Node> subscribers = ConcurrentHashMap.newKeySet();

  public DiscoveryService(EndpointRegistry registry) {
    this.registry = registry;
  }

  /** The sidecars subscribed now, with the config hash each reports. */
  public Set<Node> subscribers() {
    return Set.copyOf(subscribers);
  }

  @Override
  public void subscribe(SubscribeRequest request, StreamObserver<EndpointSet> responses) {
    ServerCallStreamObserver<EndpointSet> call = (ServerCallStreamObserver<EndpointSet>) responses;
    if (request.getNode().getNamespace().isEmpty() && request.getServicesList().stream().anyMatch(s -> !s.contains("."))) {
      call.onError(Status.INVALID_ARGUMENT.withDescription(
          "node.namespace: required to resolve unqualified service names " + request.getServicesList())
          .asRuntimeException());
      return;
    }
    Map<ServiceKey, String> wanted = new LinkedHashMap<>();
    for (String name : request.getServicesList()) {
      wanted.put(ServiceKey.resolve(name, request.getNode().getNamespace()), name);
    }
    Subscription subscription = new Subscription(call, wanted, request.getNode().getNamespace());
    BiConsumer<ServiceKey, EndpointRegistry.Versioned> listener = subscription::changed;
    subscribers.add(request.getNode());
    call.setOnCancelHandler(() -> {
      registry.removeListener(listener);
      subscribers.remove(request.getNode());
    });
    call.setOnReadyHandler(subscription::drain);
    registry.onChange(listener);
    wanted.keySet().forEach(service -> subscription.changed(service, registry.current(service)));
  }

  private static final class Subscription {
    private final ServerCallStreamObserver<EndpointSet> call;
    private final Map<ServiceKey, String> wanted;
    private final String namespace;
    private final Map<ServiceKey, EndpointSet> pending = new LinkedHashMap<>();
    private final Map<ServiceKey, Long> sent = new ConcurrentHashMap<>();

    Subscription(ServerCallStreamObserver<EndpointSet> call, Map<ServiceKey, String> wanted, String namespace) {
      this.call = call;
      this.wanted = wanted;
      this.namespace = namespace;
    }

    synchronized void changed(ServiceKey service, EndpointRegistry.Versioned set) {
      String asked = wanted.get(service);
      if (asked == null || set.version() < sent.getOrDefault(service, -1L)) {
        return;
      }
      pending.put(service, EndpointSet.newBuilder()
          .setService(asked)
          .setNamespace(service.namespace().isEmpty() ? namespace : service.namespace())
          .setVersion(set.version())
          .addAllEndpoints(set.endpoints())
          .build());
      drain();
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
