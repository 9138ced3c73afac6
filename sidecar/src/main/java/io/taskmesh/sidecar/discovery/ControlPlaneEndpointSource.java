package io.taskmesh.sidecar.discovery;

import io.netty.handler.ssl.SslContext;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.rpc.CallSettings;
import io.taskmesh.sidecar.rpc.GrpcCall;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import io.taskmesh.sidecar.rpc.GrpcMethod;
import io.taskmesh.sidecar.rpc.GrpcStatus;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteRule;
import io.taskmesh.config.RouteTableMessages;
import io.taskmesh.discovery.v1.EndpointSet;
import io.taskmesh.discovery.v1.InboundAuthorization;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.discovery.v1.SubscribeRequest;
import io.taskmesh.identity.SpiffeId;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control-plane stream of the discovery protocol: one bidirectional Subscribe call. It sends who this
 * sidecar is (with the config hash it runs) and every service it needs, and sends that again, whole, on the same
 * stream each time either changes: a service called on demand, one dropped, a config reload. Each message back is
 * the full endpoint set of one service, or says the control plane knows no such service. When the control plane
 * goes away the last endpoints stay in force and the client resubscribes (with its current request) after a
 * jittered, growing backoff. All state is kept on one thread.
 */
public final class ControlPlaneEndpointSource implements EndpointSource {
  private static final Logger log = LoggerFactory.getLogger(ControlPlaneEndpointSource.class);
  private static final String SPIFFE_SCHEME = "spiffe://";

  /** What the control plane answered for a service name. */
  public enum Answer { FOUND, UNKNOWN }

  private static final GrpcMethod<SubscribeRequest, EndpointSet> SUBSCRIBE =
      GrpcMethod.of("taskmesh.discovery.v1.EndpointDiscovery", "Subscribe", EndpointSet.parser());
  private final GrpcChannel channel;
  private final Duration minBackoff;
  private final Duration maxBackoff;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-discovery");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<String> services = new LinkedHashSet<>();
  private final Map<String, CompletableFuture<Answer>> answers = new HashMap<>();
  private final Map<String, CompletableFuture<Optional<String>>> addresses = new LinkedHashMap<>();
  private Node node;
  private final ServiceNames names;
  private EndpointListener listener;
  private volatile RouteListener routeListener = (service, rules) -> { };
  private volatile Consumer<InboundAuthorization> authorizationListener = table -> { };
  private volatile GrpcCall<SubscribeRequest, EndpointSet> call;
  private volatile boolean closed;
  private int failures;

  /** Plaintext, on an event loop of its own. */
  public ControlPlaneEndpointSource(String address, Node node, Collection<String> services, Duration minBackoff,
      Duration maxBackoff) {
    this(address, Optional.empty(), null, node, services, minBackoff, maxBackoff);
  }

  /**
   * @param tls with identity on: TLS presenting the workload certificate ({@code ControlPlaneTls.discovery});
   *     empty: plaintext
   * @param netty the proxy's event loops, which carry the stream; null: a loop of its own
   */
  public ControlPlaneEndpointSource(String address, Optional<SslContext> tls, NettyResources netty, Node node,
      Collection<String> services, Duration minBackoff, Duration maxBackoff) {
    GrpcChannel.HostPort server = GrpcChannel.hostPort(address);
    this.channel = tls.map(context -> GrpcChannel.tls(netty, server.host(), server.port(), address, context))
        .orElseGet(() -> GrpcChannel.plaintext(netty, server.host(), server.port()));
    this.node = node;
    this.names = new ServiceNames(node.getNamespace());
    this.services.addAll(services);
    this.minBackoff = minBackoff;
    this.maxBackoff = maxBackoff;
  }

  /** How this sidecar names the services it calls (its node's namespace is its own). */
  public ServiceNames names() {
    return names;
  }

  /** Who hears each service's route rules (before {@link #start}). */
  public void onRoutes(RouteListener routes) {
    this.routeListener = routes;
  }

  /**
   * Who hears this sidecar's own inbound authorization (before {@link #start}); once it has taken a table, its
   * hash is announced on the stream, so the control plane counts this sidecar as enforcing it.
   */
  public void onAuthorization(Consumer<InboundAuthorization> authorization) {
    this.authorizationListener = authorization;
  }

  @Override
  public void start(EndpointListener endpointListener) {
    this.listener = endpointListener;
    scheduler.execute(this::subscribe);
  }

  /**
   * Adds {@code service} to the subscription (if it is not there yet) and completes when the control plane has
   * answered for it: at once if it already has.
   */
  public CompletableFuture<Answer> subscribe(String service) {
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    scheduler.execute(() -> {
      answers.computeIfAbsent(service, name -> new CompletableFuture<>()).whenComplete((found, error) -> {
        if (error == null) {
          answer.complete(found);
        }
      });
      if (services.add(service)) {
        send();
      }
    });
    return answer;
  }

  /** Removes {@code service} from the subscription; its endpoints are no longer sent. */
  public void unsubscribe(String service) {
    scheduler.execute(() -> {
      answers.remove(service);
      if (services.remove(service)) {
        send();
      }
    });
  }

  /**
   * The service the control plane says owns a captured connection's original destination ({@code ip:port}, a
   * ClusterIP), empty when none does; once asked, the address stays in the subscription and its answer is kept.
   */
  public CompletableFuture<Optional<String>> serviceAt(String address) {
    CompletableFuture<Optional<String>> answer = new CompletableFuture<>();
    scheduler.execute(() -> {
      boolean asked = addresses.containsKey(address);
      addresses.computeIfAbsent(address, a -> new CompletableFuture<>()).whenComplete((service, error) -> {
        if (error == null) {
          answer.complete(service);
        }
      });
      if (!asked) {
        send();
      }
    });
    return answer;
  }

  /** The config hash now in force (after a reload): announced on the stream with the current subscription. */
  public void announce(String configHash) {
    scheduler.execute(() -> {
      node = node.toBuilder().setConfigHash(configHash).build();
      send();
    });
  }

  /** What the next request says, as a test or /clusters would read it (taken on the discovery thread). */
  public CompletableFuture<SubscribeRequest> currentRequest() {
    return CompletableFuture.supplyAsync(this::request, scheduler);
  }

  private SubscribeRequest request() {
    return SubscribeRequest.newBuilder().setNode(node).addAllServices(services).addAllAddresses(addresses.keySet())
        .build();
  }

  private void send() {
    GrpcCall<SubscribeRequest, EndpointSet> current = call;
    if (current != null) {
      current.send(request());
    }
  }

  private void subscribe() {
    if (closed) {
      return;
    }
    Map<String, Long> versions = new HashMap<>();
    call = channel.call(SUBSCRIBE, CallSettings.NONE, new GrpcCall.Listener<>() {
      @Override
      public void onMessage(EndpointSet set) {
        scheduler.execute(() -> {
          failures = 0;
          if (set.hasAuthorization()) {
            authorizationListener.accept(set.getAuthorization());
            node = node.toBuilder().setAuthorizationHash(set.getAuthorization().getHash()).build();
            send();
            return;
          }
          String label = set.getAddress().isEmpty() ? set.getService() : set.getAddress();
          Long held = versions.get(label);
          if (held != null && set.getVersion() < held) {
            return; // older than what this stream already gave us
          }
          versions.put(label, set.getVersion());
          if (!set.getAddress().isEmpty()) {
            answerAddress(set);
          } else if (services.contains(set.getService())) {
            answerService(set);
          }
        });
      }

      @Override
      public void onClose(GrpcStatus status) {
        resubscribeLater(status.isOk() ? "stream completed by the control plane" : status.toString());
      }
    });
    send();
  }

  /**
   * A route's backends are Services of its parent's namespace. Asked from another namespace ({@code svc.ns}), they
   * are named so too, so that this proxy subscribes to them there and not in its own namespace.
   */
  static List<RouteRule> inNamespaceOf(String askedName, List<RouteRule> rules) {
    String host = askedName.contains(":") ? askedName.substring(0, askedName.lastIndexOf(':')) : askedName;
    int dot = host.indexOf('.');
    if (dot < 0) {
      return rules;
    }
    String namespace = host.substring(dot + 1).split("\\.")[0];
    return rules.stream().map(rule -> new RouteRule(rule.matches(), rule.backends().stream()
            .map(backend -> backend.service().contains(".") ? backend
                : new RouteBackend(backend.service() + "." + namespace, backend.weight()))
            .toList(), rule.requestHeaders(), rule.timeout()))
        .toList();
  }

  private void answerService(EndpointSet set) {
    CompletableFuture<Answer> answer = answers.computeIfAbsent(set.getService(), name -> new CompletableFuture<>());
    if (set.getUnknown()) {
      if (!set.getDenied().isEmpty()) {
        log.warn("event=discovery_denied service={} reason=\"{}\"", set.getService(), set.getDenied());
      }
      answer.complete(Answer.UNKNOWN);
      listener.onUnknown(names.of(set.getService()));
      routeListener.onRoutes(names.of(set.getService()), List.of());
      return;
    }
    routeListener.onRoutes(names.of(set.getService()),
        inNamespaceOf(set.getService(), RouteTableMessages.rules(set.getRoutes())));
    listener.onEndpoints(names.of(set.getService()), set.getEndpointsList().stream()
        .filter(io.taskmesh.discovery.v1.Endpoint::getReady)
        .map(endpoint -> new EndpointAddress(endpoint.getAddress(), endpoint.getPort(), identity(endpoint)))
        .toList());
    if (!answer.complete(Answer.FOUND) && answer.join() == Answer.UNKNOWN) {
      answers.put(set.getService(), CompletableFuture.completedFuture(Answer.FOUND)); // it exists now
    }
  }

  /**
   * The SPIFFE ID of a meshed endpoint; empty for one outside the mesh, whose identity field names only its pod
   * or address (and for a malformed ID, which is logged: such an endpoint is reached like an unmeshed one).
   */
  private static Optional<SpiffeId> identity(io.taskmesh.discovery.v1.Endpoint endpoint) {
    String identity = endpoint.getIdentity();
    if (!identity.startsWith(SPIFFE_SCHEME)) {
      return Optional.empty();
    }
    try {
      return Optional.of(SpiffeId.parse(identity));
    } catch (IllegalArgumentException e) {
      log.warn("event=endpoint_identity_invalid endpoint={}:{} error=\"{}\"", endpoint.getAddress(),
          endpoint.getPort(), e.getMessage());
      return Optional.empty();
    }
  }

  /** An address answers with its service: subscribed by name from now on, so its endpoints follow. */
  private void answerAddress(EndpointSet set) {
    CompletableFuture<Optional<String>> answer = addresses.get(set.getAddress());
    if (answer == null) {
      return;
    }
    Optional<String> service = set.getUnknown() ? Optional.empty() : Optional.of(set.getService());
    if (!answer.complete(service)) {
      addresses.put(set.getAddress(), CompletableFuture.completedFuture(service));
    }
  }

  private void resubscribeLater(String why) {
    if (closed) {
      return;
    }
    scheduler.execute(() -> {
      call = null;
      long ceiling = Math.min(maxBackoff.toMillis(), minBackoff.toMillis() << Math.min(failures, 16));
      long delay = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
      failures++;
      log.warn("event=discovery_disconnected reason=\"{}\" retry_in_ms={} (keeping the last endpoints)", why, delay);
      scheduler.schedule((Runnable) this::subscribe, delay, TimeUnit.MILLISECONDS);
    });
  }

  @Override
  public void close() {
    closed = true;
    GrpcCall<SubscribeRequest, EndpointSet> current = call;
    if (current != null) {
      current.cancel("sidecar stopping");
    }
    scheduler.shutdownNow();
    channel.close();
  }
}
