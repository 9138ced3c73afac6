package io.taskmesh.operator.discovery;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.taskmesh.discovery.v1.EndpointDiscoveryGrpc;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.config.RouteTableMessages;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.route.RouteTables;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Streams endpoint sets to sidecars. Each SubscribeRequest on a stream replaces the previous one: a service it
 * newly names gets its current set at once (or {@code unknown}), then each change; a service it no longer names
 * is no longer sent. A sidecar that calls nothing still subscribes (with no services) so that the config hash it
 * runs is known, and each request it sends after a reload tells {@code acks} the hash it now runs. A sidecar that
 * reads slowly gets only the newest set of each service (sets are whole state, so older ones waiting to be sent
 * are simply replaced), which bounds what it can hold up.
 *
 * <p>A request over the {@link DiscoveryLimits} is refused whole, before anything is held for it. Changes are
 * debounced, and each changed service's set is built once per way of naming it and the same message sent to every
 * subscriber of that service (found through an index, not by asking every subscriber).
 *
 * <p>A subscriber that names its own service (node.service) also gets that service's inbound authorization when
 * it does not hold it already (node.authorization_hash; a new one holds "no restriction"), and again whenever it
 * changes. With identity on (a TLS peer proving a SPIFFE ID), a node must be of the peer's
 * namespace, and a service the peer's namespace may not call (see {@link AuthorizationTables#mayDiscover}) is
 * answered {@code unknown} with {@code denied} saying why, and never sent its endpoints.
 */
public final class DiscoveryService extends EndpointDiscoveryGrpc.EndpointDiscoveryImplBase implements AutoCloseable {
  private final EndpointRegistry registry;
  private final RouteTables routes;
  private final AuthorizationTables authorization;
  private final PeerAcks acks;
  private final DiscoveryLimits limits;
  private final DiscoveryMetrics metrics;
  private final Map<Subscription, Node> subscribers = new ConcurrentHashMap<>();
  private final Map<ServiceKey, Set<Subscription>> byService = new ConcurrentHashMap<>();
  private final ChangeDebouncer debouncer;

  /**
   * @param routes each service's route table, sent with its endpoints
   * @param authorization each service's inbound authorization, sent to the service's own sidecars
   * @param acks told the node of every request, i.e. each hash a sidecar announces (see {@link PodAcks})
   */
  public DiscoveryService(EndpointRegistry registry, RouteTables routes, AuthorizationTables authorization,
      PeerAcks acks, DiscoveryLimits limits, DiscoveryMetrics metrics) {
    this.registry = registry;
    this.routes = routes;
    this.authorization = authorization;
    this.acks = acks;
    this.limits = limits;
    this.metrics = metrics;
    this.debouncer = new ChangeDebouncer(limits.debounce(), this::push);
    registry.onChange((service, set) -> debouncer.changed(service));
    routes.onChange((service, table) -> debouncer.changed(service));
    authorization.onChange((service, table) -> subscribers.keySet().forEach(subscription ->
        subscription.authorizationChanged(service, table)));
  }

  /** The sidecars subscribed now, with the config hash each reported last. */
  public Set<Node> subscribers() {
    return Set.copyOf(subscribers.values());
  }

  @Override
  public StreamObserver<SubscribeRequest> subscribe(StreamObserver<EndpointSet> responses) {
    ServerCallStreamObserver<EndpointSet> call = (ServerCallStreamObserver<EndpointSet>) responses;
    Optional<SpiffeId> peer = PeerIdentities.current();
    Subscription subscription = new Subscription(call);
    Runnable leave = () -> {
      subscribers.remove(subscription);
      subscription.replace(Map.of(), Node.getDefaultInstance());
    };
    call.setOnCancelHandler(leave::run);
    call.setOnReadyHandler(subscription::drain);
    return new StreamObserver<>() {
      @Override
      public void onNext(SubscribeRequest request) {
        Optional<Status> refusal = refusal(request).or(() -> impersonation(request.getNode(), peer));
        if (refusal.isPresent()) {
          leave.run();
          call.onError(refusal.get().asRuntimeException());
          return;
        }
        subscribers.put(subscription, request.getNode());
        subscription.replace(wanted(request, peer), request.getNode());
        acks.accept(request.getNode(), peer);
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

  private Optional<Status> refusal(SubscribeRequest request) {
    if (request.getServicesCount() > limits.maxServices()) {
      return Optional.of(metrics.refuse("services", Status.RESOURCE_EXHAUSTED.withDescription(
          "services: " + request.getServicesCount() + " names, at most " + limits.maxServices()
              + " per subscription (cap services)")));
    }
    if (request.getAddressesCount() > limits.maxAddresses()) {
      return Optional.of(metrics.refuse("addresses", Status.RESOURCE_EXHAUSTED.withDescription(
          "addresses: " + request.getAddressesCount() + " entries, at most " + limits.maxAddresses()
              + " per subscription (cap addresses)")));
    }
    Optional<String> tooLong = Stream.concat(
            request.getServicesList().stream(), request.getAddressesList().stream())
        .filter(name -> name.length() > limits.maxNameLength()).findFirst();
    if (tooLong.isPresent()) {
      return Optional.of(metrics.refuse("name_length", Status.INVALID_ARGUMENT.withDescription(
          "services/addresses: a name of " + tooLong.get().length() + " characters, at most "
              + limits.maxNameLength() + " (cap name_length)")));
    }
    if (request.getNode().getNamespace().isEmpty() && request.getServicesList().stream().anyMatch(s -> !s.contains("."))) {
      return Optional.of(Status.INVALID_ARGUMENT.withDescription(
          "node.namespace: required to resolve unqualified service names " + request.getServicesList()));
    }
    return Optional.empty();
  }

  /** A node must be of the namespace its peer's certificate proves (a forged node could read or ack for another). */
  private Optional<Status> impersonation(Node node, Optional<SpiffeId> peer) {
    if (peer.isEmpty() || peer.get().namespace().equals(node.getNamespace())) {
      return Optional.empty();
    }
    return Optional.of(metrics.refuse("identity", Status.PERMISSION_DENIED.withDescription(
        "node.namespace: '" + node.getNamespace() + "' is not the namespace of peer " + peer.get())));
  }

  private Map<String, Wanted> wanted(SubscribeRequest request, Optional<SpiffeId> peer) {
    String namespace = request.getNode().getNamespace();
    Map<String, Wanted> next = new LinkedHashMap<>();
    for (String name : request.getServicesList()) {
      next.put(name, reachable(Optional.of(ServiceKey.resolve(name, namespace)), false, peer));
    }
    for (String address : request.getAddressesList()) {
      next.put(address, reachable(registry.serviceAt(address), true, peer));
    }
    return next;
  }

  /** What a peer may learn of a service: nothing at all (not even its endpoints later) when it is out of reach. */
  private Wanted reachable(Optional<ServiceKey> service, boolean byAddress, Optional<SpiffeId> peer) {
    if (peer.isPresent() && service.isPresent() && !authorization.mayDiscover(peer.get(), service.get())) {
      metrics.refuse("out_of_reach", Status.PERMISSION_DENIED);
      return new Wanted(Optional.empty(), byAddress, "PERMISSION_DENIED: peer " + peer.get() + " may not discover "
          + "service '" + service.get().name() + "." + service.get().namespace() + "': it is outside namespace '"
          + peer.get().namespace() + "' and no AuthorizationPolicy targeting it allows callers from there");
    }
    return new Wanted(service, byAddress, "");
  }

  /** On the debouncer's thread: one service changed; each distinct message is built once, for all its subscribers. */
  private void push(ServiceKey service) {
    Set<Subscription> watching = byService.get(service);
    if (watching == null || watching.isEmpty()) {
      return;
    }
    EndpointRegistry.Versioned set = registry.current(service);
    // both versions only grow per service, so their sum grows with every change of either
    long version = set.version() + routes.current(service).version();
    Map<String, EndpointSet> built = new HashMap<>();
    Function<Labelled, EndpointSet> shared = labelled -> built.computeIfAbsent(
        (labelled.wanted().byAddress() ? "@" : "") + labelled.label(), key -> {
          metrics.built();
          return message(labelled.label(), labelled.wanted(), set, "");
        });
    for (Subscription subscription : List.copyOf(watching)) {
      subscription.changed(service, version, shared);
    }
  }

  /** {@code set} null or never seen: the control plane knows no such service. */
  private EndpointSet message(String label, Wanted entry, EndpointRegistry.Versioned set, String namespace) {
    EndpointSet.Builder message = EndpointSet.newBuilder();
    if (entry.byAddress()) {
      message.setAddress(label);
    }
    if (set == null || !entry.service().map(registry::knows).orElse(false)) {
      return message.setService(entry.byAddress() ? "" : label).setNamespace(namespace).setUnknown(true)
          .setDenied(entry.denied()).build();
    }
    ServiceKey service = entry.service().orElseThrow();
    RouteTables.Table table = routes.current(service);
    return message
        .setService(entry.byAddress() ? service.name() + "." + service.namespace() : label)
        .setNamespace(service.namespace())
        .setVersion(set.version() + table.version())
        .addAllEndpoints(set.endpoints())
        .setRoutes(RouteTableMessages.toMessage(table.version(), table.rules()))
        .build();
  }

  @Override
  public void close() {
    debouncer.close();
  }

  /** @param denied why the peer may not discover it ("" when it may); {@code service} is then empty */
  private record Wanted(Optional<ServiceKey> service, boolean byAddress, String denied) {}

  /** The pending label of a subscriber's own authorization: no service name or address looks like it. */
  private static final String AUTHORIZATION = "\u0000authorization";

  private record Labelled(String label, Wanted wanted) {}

  /** What one stream asks for now: each entry by the label the sidecar used (a name, or an address). */
  private final class Subscription {
    private final ServerCallStreamObserver<EndpointSet> call;
    private Map<String, Wanted> wanted = Map.of();
    private String namespace = "";
    /** The subscriber's own service, whose authorization it gets; null before it names one. */
    private ServiceKey own;
    private final Map<String, EndpointSet> pending = new LinkedHashMap<>();
    private final Map<String, Long> sent = new HashMap<>();

    Subscription(ServerCallStreamObserver<EndpointSet> call) {
      this.call = call;
    }

    synchronized void replace(Map<String, Wanted> next, Node node) {
      String subscriberNamespace = node.getNamespace();
      Set<ServiceKey> before = services(wanted);
      Set<ServiceKey> after = services(next);
      after.stream().filter(service -> !before.contains(service))
          .forEach(service -> byService.computeIfAbsent(service, key -> ConcurrentHashMap.newKeySet()).add(this));
      before.stream().filter(service -> !after.contains(service)).forEach(service -> byService.computeIfPresent(
          service, (key, watching) -> watching.remove(this) && watching.isEmpty() ? null : watching));
      namespace = subscriberNamespace;
      Map<String, Wanted> previous = wanted;
      wanted = next;
      pending.keySet().removeIf(label -> !label.equals(AUTHORIZATION) && !next.containsKey(label));
      sent.keySet().retainAll(next.keySet());
      ServiceKey ownNow = node.getService().isEmpty() ? null : new ServiceKey(node.getService(), subscriberNamespace);
      if (ownNow != null && !ownNow.equals(own) && !holds(node, authorization.current(ownNow))) {
        pending.put(AUTHORIZATION, authorizationMessage(ownNow, authorization.current(ownNow)));
      }
      own = ownNow;
      next.forEach((label, entry) -> {
        if (!previous.containsKey(label)) {
          pending.put(label, message(label, entry, entry.service().map(registry::current).orElse(null), namespace));
        }
      });
      drain();
    }

    private static Set<ServiceKey> services(Map<String, Wanted> entries) {
      Set<ServiceKey> services = new HashSet<>();
      entries.values().forEach(entry -> entry.service().ifPresent(services::add));
      return services;
    }

    synchronized void changed(ServiceKey service, long version, Function<Labelled, EndpointSet> shared) {
      wanted.forEach((label, entry) -> {
        if (entry.service().filter(service::equals).isPresent() && version > sent.getOrDefault(label, -1L)) {
          pending.put(label, shared.apply(new Labelled(label, entry)));
        }
      });
      drain();
    }

    synchronized void authorizationChanged(ServiceKey service, io.taskmesh.discovery.v1.InboundAuthorization table) {
      if (service.equals(own)) {
        pending.put(AUTHORIZATION, authorizationMessage(service, table));
        drain();
      }
    }

    /** What the sidecar says it enforces (after a reconnect too); a new sidecar enforces no restriction. */
    private static boolean holds(Node node, io.taskmesh.discovery.v1.InboundAuthorization table) {
      return node.getAuthorizationHash().isEmpty() ? table.getUnrestricted()
          : node.getAuthorizationHash().equals(table.getHash());
    }

    private static EndpointSet authorizationMessage(ServiceKey service,
        io.taskmesh.discovery.v1.InboundAuthorization table) {
      return EndpointSet.newBuilder().setService(service.name()).setNamespace(service.namespace())
          .setAuthorization(table).build();
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
