package io.taskmesh.sidecar.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.taskmesh.config.GatewayConfig;
import io.taskmesh.config.GatewayRoute;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.listener.BudgetCounter;
import io.taskmesh.sidecar.overload.OverloadManager;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.discovery.ServiceNames;
import io.taskmesh.sidecar.listener.ProxyListener;
import io.taskmesh.sidecar.logical.ProxyChain;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The proxy as the mesh's ingress (the gateway chain): HTTP/JSON requests are transcoded to gRPC calls that
 * go through this proxy's own outbound listener, so they get its routing, discovery, circuit breaking and
 * deadlines; plain gRPC calls are proxied by the outbound filters straight to the routed cluster. In front
 * of both: a per-client rate limit and a correlation id. The port also answers {@code GET /health} and
 * {@code GET /metrics} itself ({@link GatewayStatus}). With {@code gateway.tls} the port terminates TLS
 * ({@link EdgeTls}); its calls into the mesh are made with this proxy's own workload identity, like a sidecar's.
 */
public final class Gateway implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final GatewayRoutes routes;
  private final UpstreamCalls upstream;
  private final GrpcChannel reflection;
  private final ClientAdmission admission;
  /** How often the TLS certificate and key files are looked at for a new pair. */
  static final Duration TLS_FILE_CHECK = Duration.ofSeconds(2);

  private final GatewayListener listener;
  /** null without {@code gateway.tls}. */
  private final EdgeTls tls;
  private final ClusterManager clusters;
  private final Function<String, Optional<String>> circuitStates;

  /**
   * @param outboundPort this proxy's outbound listener, where transcoded calls go
   * @param clusters the outbound clusters, for plain gRPC calls and the status page
   * @param names how those clusters are named (the gateway's namespace is its own)
   * @param outboundChain the outbound filters, retries and timeouts, which plain gRPC calls get as well
   * @param circuitStates a service's circuit breaker state, if it has one
   * @param unaryTimeout a service's timeout for transcoded unary calls
   * @param budgets the gateway listener's budgets
   * @param samplingRatio the proxy's trace sampling ratio, which decides for traces that enter here
   */
  public Gateway(NettyResources netty, String bindAddress, GatewayConfig config, int outboundPort,
      ClusterManager clusters, ServiceNames names, ProxyChain outboundChain, Function<String, Optional<String>> circuitStates,
      Function<String, Duration> unaryTimeout, MeterRegistry registry, Duration drainTimeout,
      ListenerBudgets budgets, OverloadManager overload, double samplingRatio) {
    // first: a bad certificate or key stops the start before anything else is opened
    tls = config.tls() == null ? null : new EdgeTls(config.tls(), TLS_FILE_CHECK, registry, Clock.systemUTC());
    this.clusters = clusters;
    this.circuitStates = circuitStates;
    routes = new GatewayRoutes(config.routes(), names);
    upstream = new UpstreamCalls(outboundPort);
    admission = new ClientAdmission(config.clientRateLimit(), System::nanoTime);
    // reflection through the outbound listener too, on the proxy's own gRPC client
    reflection = GrpcChannel.plaintext(netty, "127.0.0.1", outboundPort);
    DescriptorSource descriptors = config.descriptors() == null
        ? new ReflectionDescriptorSource(reflection, Duration.ofSeconds(10))
        : new FileDescriptorSource(Path.of(config.descriptors().file()));
    GatewayContext context = new GatewayContext(routes, descriptors, upstream, admission,
        new ClientAddresses(config.clientRateLimit().forwardedFor()), new EdgeHeaders(samplingRatio), config, budgets,
        new BudgetCounter(registry, "gateway"), overload, outboundChain.methods(), unaryTimeout,
        new GatewayMetrics(registry), new GatewayStatus(routes, clusters, Clock.systemUTC()));
    ProxyChain grpcChain = outboundChain.routedBy("gateway", "gateway", new GrpcRouter(routes, clusters));
    try {
      listener = new GatewayListener(netty, bindAddress, config.port(), context,
          () -> ProxyListener.streamHandler(grpcChain), drainTimeout, Optional.ofNullable(tls));
    } catch (RuntimeException e) {
      if (tls != null) {
        tls.close();
      }
      throw e;
    }
  }

  public int port() {
    return listener.port();
  }

  /**
   * Hot reload: new routes apply to the next request (port, descriptors, limits and the TLS files named stay as
   * started; the files' contents are watched on their own).
   */
  public void apply(GatewayConfig config) {
    routes.use(config.routes());
  }

  /** How many clients the rate limiter tracks now (bounded by {@code maxTrackedClients}). */
  public int trackedClients() {
    return admission.trackedClients();
  }

  /** Each route with its service's healthy endpoint count and circuit state: the admin page {@code /gateway}. */
  public String statusJson() {
    ObjectNode status = MAPPER.createObjectNode();
    ArrayNode list = status.putArray("routes");
    for (GatewayRoute route : routes.all()) {
      ObjectNode entry = list.addObject()
          .put("pathPrefix", route.pathPrefix())
          .put("host", route.host())
          .put("service", route.service())
          .put("transcode", route.transcode());
      String clusterName = routes.clusterOf(route.service());
      Optional<Cluster> cluster = clusters.cluster(clusterName);
      entry.put("healthyEndpoints", cluster.map(GatewayStatus::healthyEndpoints).orElse(0L));
      entry.put("circuit", circuitStates.apply(clusterName).orElse("CLOSED"));
    }
    status.put("trackedClients", admission.trackedClients());
    return status.toString();
  }

  public void stopAccepting() {
    listener.stopAccepting();
  }

  public void closeConnections() {
    listener.closeConnections();
  }

  @Override
  public void close() {
    listener.close();
    reflection.close();
    if (tls != null) {
      tls.close();
    }
    upstream.close();
  }
}
