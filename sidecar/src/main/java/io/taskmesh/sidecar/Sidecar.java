package io.taskmesh.sidecar;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.taskmesh.config.BudgetsConfig;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.sidecar.admin.AdminServer;
import io.taskmesh.sidecar.admin.AppHealthProbe;
import io.taskmesh.sidecar.admin.AdminServer.Page;
import io.taskmesh.sidecar.cluster.Cluster;
import io.taskmesh.sidecar.cluster.ClusterGauges;
import io.taskmesh.sidecar.cluster.ClusterManager;
import io.taskmesh.sidecar.cluster.Endpoint;
import io.taskmesh.sidecar.cluster.UpstreamConnector;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.sidecar.discovery.ControlPlaneEndpointSource;
import io.taskmesh.sidecar.capture.CapturedTraffic;
import io.taskmesh.sidecar.capture.TcpMetrics;
import io.taskmesh.sidecar.discovery.OnDemandDiscovery;
import io.taskmesh.sidecar.discovery.ServiceNames;
import io.taskmesh.sidecar.discovery.OnDemandRouter;
import io.taskmesh.sidecar.discovery.StaticEndpointSource;
import io.taskmesh.sidecar.filter.AccessLogFilter;
import io.taskmesh.sidecar.filter.BulkheadFilter;
import io.taskmesh.sidecar.filter.CircuitBreakerFilter;
import io.taskmesh.sidecar.filter.MetricsFilter;
import io.taskmesh.sidecar.filter.RateLimitFilter;
import io.taskmesh.sidecar.filter.AuthorizationFilter;
import io.taskmesh.sidecar.authz.ActiveAuthorization;
import io.taskmesh.sidecar.authz.InboundAuthorization;
import io.taskmesh.sidecar.filter.StreamFilter;
import io.taskmesh.sidecar.gateway.Gateway;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.sidecar.identity.InboundTls;
import io.taskmesh.sidecar.identity.MeshTlsContexts;
import io.taskmesh.sidecar.identity.ControlPlaneTls;
import io.taskmesh.sidecar.identity.WorkloadIdentity;
import io.netty.channel.ChannelHandler;
import java.io.IOException;
import java.time.Clock;
import io.taskmesh.sidecar.filter.TracingFilter;
import io.taskmesh.tracing.TracingSetup;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.taskmesh.sidecar.listener.BudgetCounter;
import io.taskmesh.sidecar.listener.MeshPeers;
import io.taskmesh.sidecar.logical.ProxyChain;
import io.taskmesh.sidecar.overload.OverloadManager;
import io.taskmesh.sidecar.listener.ProxyListener;
import io.taskmesh.sidecar.route.ActivePolicies;
import io.taskmesh.sidecar.route.DiscoveredRoutes;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import io.taskmesh.sidecar.discovery.OnDemandClusters;
import io.taskmesh.sidecar.route.MethodCatalog;
import io.taskmesh.sidecar.route.PolicyTable;
import io.taskmesh.sidecar.route.Retries;
import java.net.InetSocketAddress;
import java.util.Optional;
import io.taskmesh.sidecar.config.ConfigWatcher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One running proxy: outbound and inbound listeners, their clusters, the admin port. Reading
 * {@link #start} shows how the parts connect; {@link InboundChain} and {@link OutboundChain} show
 * what each request passes through.
 */
public final class Sidecar implements AutoCloseable {
  private final NettyResources netty;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ClusterManager outboundClusters;
  private final Cluster localApp;
  /** null without a control plane (a static endpoint map only). */
  private final ControlPlaneEndpointSource controlPlane;
  /** null without a control plane. */
  private final OnDemandDiscovery onDemand;
  private final ProxyListener outbound;
  private final ProxyListener inbound;
  private final AdminServer admin;
  /** null unless the config has a {@code gateway:} section. */
  private final Gateway gateway;
  private final AppHealthProbe appHealth;
  /** null when the config has tracing off. */
  private final OpenTelemetrySdk tracing;
  private final MethodCatalog methods;
  /** The local app's methods, learnt by reflection: which inbound calls are streams, which paths are junk. */
  private final MethodCatalog appMethods;
  private final OverloadManager overload;
  /** What each request reads its policy from: the table of the config in force. */
  private final ActivePolicies policies;
  /** The route rules discovery sent; applied under those of the config (see {@link PolicyTable#of}). */
  private final DiscoveredRoutes discoveredRoutes = new DiscoveredRoutes();
  /** Where route rules find their backends' clusters: on demand when there is a control plane. */
  private final ClusterResolver routeBackends;
  /** Who may call the local app: the policies discovery sent (unrestricted until it sends any). */
  private final ActiveAuthorization authorization = new ActiveAuthorization();
  /** null when the config has identity off: plaintext both ways. */
  private final WorkloadIdentity identity;
  private volatile MeshConfig config;
  private volatile boolean draining;

  private Sidecar(MeshConfig config, String publicBindAddress, NettyResources netty) {
    this.config = config;
    this.netty = netty;
    UpstreamConnector connector = new UpstreamConnector(netty, config.budgets().inbound());
    BudgetCounter upstreamBudgets = new BudgetCounter(registry, "upstream");
    identity = config.identity().enabled() ? startIdentity(config, netty, registry) : null;
    Optional<MeshTlsContexts> tls = Optional.ofNullable(identity).map(WorkloadIdentity::contexts);
    Counter plaintextUpstream = Counter.builder("taskmesh.plaintext.upstream.connections").register(registry);
    UpstreamConnector meshConnector = new UpstreamConnector(netty, config.budgets().outbound(),
        config.budgets().upstream(), () -> upstreamBudgets.exceeded("keepalive_timeout"), tls, plaintextUpstream::increment);
    overload = new OverloadManager(config.overload(), netty.workers(), registry);
    BudgetsConfig budgets = config.budgets();
    // no SDK at all without tracing: its classes are some 100 of the proxy's start-up and metadata
    tracing = config.tracing().enabled() ? TracingSetup.create(config.service(), config.tracing().exporter(),
        config.tracing().endpoint(), config.tracing().samplingRatio()) : null;
    List<StreamFilter> filters = sharedFilters(config);

    ClusterGauges clusterGauges = new ClusterGauges(registry);
    outboundClusters = new ClusterManager(meshConnector,
        service -> this.config.outbound().policyFor(service), clusterGauges::created, clusterGauges::removed);
    new StaticEndpointSource(config.outbound().discovery().staticEndpoints()).start(outboundClusters);
    // asked through this proxy's own outbound listener once the service has an endpoint: the query then goes on the
    // mesh's connection to it (mTLS to a meshed endpoint, as the app's calls), never as a plaintext side channel
    methods = new MethodCatalog(netty, service -> Optional.ofNullable(outboundClusters.clusters().get(service))
        .flatMap(Cluster::anyHealthy).map(endpoint -> new InetSocketAddress("127.0.0.1", outboundPort())));
    appMethods = new MethodCatalog(netty, service -> Optional.of(new InetSocketAddress("127.0.0.1", config.inbound().appPort())));
    if (!config.isGateway()) {
      appMethods.shape(config.service(), ""); // asks the app now, so its first watches are known as streams
    }
    controlPlane = controlPlane(config, Optional.ofNullable(identity), netty);
    onDemand = controlPlane == null ? null : new OnDemandDiscovery(controlPlane,
        service -> outboundClusters.remove(controlPlane.names().of(service)), OnDemandDiscovery.DEFAULT_WAIT_CAP,
        OnDemandDiscovery.DEFAULT_IDLE_AFTER, System::nanoTime);
    routeBackends = onDemand == null ? outboundClusters : new OnDemandClusters(outboundClusters, onDemand);
    policies = new ActivePolicies(PolicyTable.of(config, routeBackends));
    if (controlPlane != null) {
      onDemand.pin(configuredServices(config));
      controlPlane.onRoutes(this::routesDiscovered);
      controlPlane.onAuthorization(table -> authorization.use(InboundAuthorization.of(table)));
      if (identity == null) {
        controlPlane.start(outboundClusters);
      } else {
        // the control plane takes only peers with a certificate: connecting before the first one only backs off
        identity.ready().thenRun(() -> controlPlane.start(outboundClusters));
      }
    }
    ProxyChain outboundChain = OutboundChain.assemble(outboundClusters, Optional.ofNullable(onDemand),
        outboundFilters(filters), policies, new Retries(registry), methods);
    outbound = ProxyListener.bind(netty, "127.0.0.1", config.outbound().port(), outboundChain, budgets.outbound(),
        new BudgetCounter(registry, "outbound"), overload, anyPeer -> true, config.drain().timeout(), // the local app
        CapturedTraffic.outbound(netty.channelType(), new TcpMetrics(registry, "outbound"),
            Optional.ofNullable(onDemand).map(discovery -> new OnDemandRouter(outboundClusters, discovery, Optional.empty()))),
        Optional.empty()); // the app's own connections: plaintext on loopback
    gateway = config.isGateway() ? gateway(config, publicBindAddress, outboundChain) : null;

    localApp = new Cluster(config.service(), connector, config.outbound().defaults()); // loopback: no keepalive
    localApp.update(List.of(new EndpointAddress("127.0.0.1", config.inbound().appPort())));
    inbound = ProxyListener.bind(netty, publicBindAddress, config.inbound().port(),
        InboundChain.assemble(config.service(), localApp, inboundFilters(filters), policies), budgets.inbound(),
        new BudgetCounter(registry, "inbound"), overload, new MeshPeers(outboundClusters), config.drain().timeout(),
        CapturedTraffic.inbound(netty.channelType(), new TcpMetrics(registry, "inbound"), config.inbound().appPort()),
        tls.map(this::inboundTls));

    appHealth = new AppHealthProbe(config.inbound().appPort(), Duration.ofSeconds(1), netty);
    admin = new AdminServer(netty, publicBindAddress, config.admin().port(), adminPages(), budgets.admin(),
        new BudgetCounter(registry, "admin"));
  }

  /**
   * The workload identity of the config: its token and trust bundle are read now (an unreadable one stops the
   * start, naming the file), its first certificate is asked for in the background; /ready waits for it.
   */
  private static WorkloadIdentity startIdentity(MeshConfig config, NettyResources netty, MeterRegistry registry) {
    try {
      return WorkloadIdentity.start(config.identity(), Clock.systemUTC(), netty, registry);
    } catch (IOException e) {
      throw new IllegalStateException("identity: " + e.getMessage(), e);
    }
  }

  /**
   * The first handler of each inbound connection: TLS or plaintext by its first bytes, plaintext refused in strict
   * mode. The mode is read from the config in force for each new connection, so a reload between permissive
   * and strict applies to the next connection; switching identity on or off takes a restart.
   */
  private Supplier<ChannelHandler> inboundTls(MeshTlsContexts contexts) {
    IdentityMode started = config.identity().mode();
    return () -> {
      IdentityMode mode = config.identity().enabled() ? config.identity().mode() : started;
      return new InboundTls(contexts, mode, outcome -> Counter.builder("taskmesh.inbound.connections")
          .tag("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT)).register(registry).increment());
    };
  }

  /** The gateway chain: transcoded calls enter through the outbound listener, gRPC ones pass the outbound filters. */
  private Gateway gateway(MeshConfig config, String publicBindAddress, ProxyChain outboundChain) {
    CircuitBreakerFilter breakers = outboundChain.filters().stream().filter(CircuitBreakerFilter.class::isInstance)
        .map(CircuitBreakerFilter.class::cast).findFirst().orElseThrow();
    return new Gateway(netty, publicBindAddress, config.gateway(), outbound.port(), outboundClusters,
        new ServiceNames(config.namespace()), outboundChain,
        service -> breakers.state(service).map(Enum::name),
        service -> policies.current().outbound(service).timeout(), registry, config.drain().timeout(),
        config.budgets().gateway(), overload, config.tracing().samplingRatio());
  }

  /**
   * Tracing first (so a request refused by a later filter still has its span), then the access log (off
   * unless the request's policy enables it); each chain then adds its metrics, which collapse method labels
   * by what that chain knows of its upstream's methods.
   */
  private List<StreamFilter> sharedFilters(MeshConfig config) {
    List<StreamFilter> filters = new java.util.ArrayList<>();
    if (config.tracing().enabled()) {
      filters.add(new TracingFilter(tracing, config.tracing().propagators()));
    }
    filters.add(new AccessLogFilter());
    return List.copyOf(filters);
  }

  /** The shared filters, metrics, then a circuit breaker per upstream service. */
  private List<StreamFilter> outboundFilters(List<StreamFilter> shared) {
    List<StreamFilter> filters = new java.util.ArrayList<>(shared);
    filters.add(new MetricsFilter(registry, methods));
    filters.add(new CircuitBreakerFilter(registry));
    return List.copyOf(filters);
  }

  /**
   * The shared filters, metrics (a path the app does not serve counts as {@code unknown}, once the app's methods
   * are learnt), authorization (a refused call takes no token), then the pod's rate limit and its bulkheads ({@code inbound.maxConcurrentRequests} for unary
   * calls, {@code inbound.maxConcurrentStreamingRequests} for streams). Filters read a
   * request's policy from the request, so a reload applies from the next request on. A request the rate
   * limit refuses takes no bulkhead permit.
   */
  private List<StreamFilter> inboundFilters(List<StreamFilter> shared) {
    List<StreamFilter> filters = new java.util.ArrayList<>(shared);
    filters.add(new MetricsFilter(registry, appMethods));
    filters.add(new AuthorizationFilter(registry, authorization));
    filters.add(new RateLimitFilter(registry));
    filters.add(new BulkheadFilter(registry, appMethods));
    return List.copyOf(filters);
  }

  /**
   * The control-plane stream, subscribed from the start to the services the config names; others are added on
   * demand when the app calls them.
   */
  private static ControlPlaneEndpointSource controlPlane(MeshConfig config, Optional<WorkloadIdentity> identity,
      NettyResources netty) {
    if (!config.outbound().discovery().hasControlPlane()) {
      return null;
    }
    Node node = Node.newBuilder()
        .setPodName(System.getenv().getOrDefault("POD_NAME", ""))
        .setNamespace(config.namespace())
        .setService(config.service())
        .setConfigHash(MeshConfigWriter.hash(config))
        .build();
    // with identity on, the control plane takes only peers that present a workload certificate
    Optional<io.netty.handler.ssl.SslContext> tls = identity.map(workload -> ControlPlaneTls.discovery(
        workload.contexts(), workload::trustAnchors));
    return new ControlPlaneEndpointSource(config.outbound().discovery().address(), tls, netty, node,
        configuredServices(config), Duration.ofMillis(200), Duration.ofSeconds(10));
  }

  /**
   * The services named in {@code outbound.upstreams}, {@code outbound.discovery.static}, as backends of
   * {@code outbound.routes} (rules pick among held clusters) and in the gateway's routes.
   */
  private static java.util.Set<String> configuredServices(MeshConfig config) {
    java.util.Set<String> services = new java.util.TreeSet<>(config.outbound().upstreams().keySet());
    services.addAll(config.outbound().discovery().staticEndpoints().keySet());
    config.outbound().routes().forEach((service, rules) -> rules.forEach(rule ->
        rule.backends().forEach(backend -> services.add(backend.service()))));
    if (config.isGateway()) {
      config.gateway().routes().forEach(route -> services.add(route.service())); // "svc.ns" reaches another namespace
    }
    return services;
  }

  /**
   * Starts listening on the ports of {@code config} (0 means any free port).
   *
   * @param publicBindAddress where inbound and admin listen: {@code 0.0.0.0} in a pod, loopback in tests
   */
  public static Sidecar start(MeshConfig config, String publicBindAddress) {
    NettyResources netty = NettyResources.sizedToCores();
    try {
      return new Sidecar(config, publicBindAddress, netty);
    } catch (RuntimeException e) {
      netty.close(); // closes whatever listener was bound before the failure
      throw e;
    }
  }

  /**
   * Streams this proxy holds state for now: those its listeners relay and those open on its upstream connections.
   * Zero whenever no call is in progress, however the earlier ones ended (answered, reset, past their deadline).
   */
  public int streamsInProgress() {
    int streams = outbound.relayedStreams() + inbound.relayedStreams();
    for (Cluster cluster : outboundClusters.clusters().values()) {
      for (Endpoint endpoint : cluster.endpoints()) {
        streams += endpoint.openUpstreamStreams();
      }
    }
    for (Endpoint endpoint : localApp.endpoints()) {
      streams += endpoint.openUpstreamStreams();
    }
    return streams;
  }

  public int outboundPort() {
    return outbound.port();
  }

  public int inboundPort() {
    return inbound.port();
  }

  /** The gateway port; only when the config has a {@code gateway:} section. */
  public int gatewayPort() {
    if (gateway == null) {
      throw new IllegalStateException("this proxy runs no gateway (no gateway: section in its config)");
    }
    return gateway.port();
  }

  /** The gateway, or null when this proxy runs none. */
  public Gateway gateway() {
    return gateway;
  }

  /** Connections open on the outbound listener now. */
  int outboundOpenConnections() {
    return outbound.openConnections();
  }

  public int adminPort() {
    return admin.port();
  }

  public MeshConfig config() {
    return config;
  }

  /** On-demand discovery; empty without a control plane. */
  public Optional<OnDemandDiscovery> onDemand() {
    return Optional.ofNullable(onDemand);
  }

  /** The outbound clusters; also the listener discovery sources feed. */
  public ClusterManager outboundClusters() {
    return outboundClusters;
  }

  /**
   * A new config accepted by hot reload: new static endpoints, balancer and outlier detection policies
   * apply at once; requests that start from now on get the new policy table, those in flight keep theirs.
   */
  public void apply(MeshConfig newConfig) {
    config = newConfig;
    usePolicies();
    outboundClusters.usePolicies(newConfig.outbound()::policyFor);
    localApp.usePolicy(newConfig.outbound().defaults());
    new StaticEndpointSource(newConfig.outbound().discovery().staticEndpoints()).start(outboundClusters);
    if (gateway != null && newConfig.gateway() != null) {
      gateway.apply(newConfig.gateway());
    }
    if (controlPlane != null) {
      // the new config's services, then its hash: the census counts this sidecar on the config it now runs
      onDemand.pin(pinnedServices());
      controlPlane.announce(MeshConfigWriter.hash(newConfig));
    }
    configReloads("accepted").increment();
  }

  /**
   * A service's route rules from discovery: requests from now on are routed by them, and the services they
   * send to are subscribed (and kept) so that a rule finds its backends' endpoints.
   */
  private void routesDiscovered(String service, List<io.taskmesh.config.RouteRule> rules) {
    if (discoveredRoutes.update(service, rules)) {
      usePolicies();
      onDemand.pin(pinnedServices());
    }
  }

  /** One table from the config in force and the routes discovered; rebuilt whole when either changes. */
  private synchronized void usePolicies() {
    policies.use(PolicyTable.of(config, discoveredRoutes.snapshot(), routeBackends));
  }

  private java.util.Set<String> pinnedServices() {
    java.util.Set<String> services = new java.util.TreeSet<>(configuredServices(config));
    services.addAll(discoveredRoutes.backends());
    return services;
  }

  public void configRejected() {
    configReloads("rejected").increment();
  }

  /** Hot reload: applies each valid new content of {@code file}, keeps the last good config otherwise. */
  public ConfigWatcher watchConfig(Path file, String currentContent, Duration interval) {
    return new ConfigWatcher(file, currentContent, interval, this::apply, rejected -> configRejected());
  }

  public boolean isDraining() {
    return draining;
  }

  private Counter configReloads(String result) {
    return Counter.builder("taskmesh.config.reloads").tag("result", result).register(registry);
  }

  /**
   * Graceful drain: /ready fails, no new connections, GOAWAY to every client, then waits up to
   * {@code drain.timeout} for in-flight requests to finish.
   */
  public synchronized void drain() {
    if (draining) {
      return;
    }
    draining = true;
    if (gateway != null) {
      gateway.stopAccepting();
      gateway.closeConnections();
    }
    outbound.stopAccepting();
    inbound.stopAccepting();
    outbound.closeConnections();
    inbound.closeConnections();
  }

  private Map<String, Supplier<Page>> adminPages() {
    Map<String, Supplier<Page>> pages = new LinkedHashMap<>();
    pages.put("/healthz", () -> Page.text(200, "ok\n"));
    pages.put("/health", () -> Page.text(200, "ok\n"));
    pages.put("/ready", this::readiness);
    pages.put("/metrics", () -> new Page(200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    pages.put("/config", () -> Page.json("{\"hash\":\"" + MeshConfigWriter.hash(config) + "\",\"config\":"
        + Json.quote(MeshConfigWriter.toYaml(config)) + "}"));
    pages.put("/clusters", () -> Page.json(clustersJson()));
    pages.put("/methods", () -> Page.json(methods.toJson()));
    if (gateway != null) {
      pages.put("/gateway", () -> Page.json(gateway.statusJson()));
    }
    return pages;
  }

  /**
   * Ready when not draining, holding its first workload certificate (with identity on), and the local app answers
   * its gRPC health check with SERVING (a gateway has none).
   */
  private Page readiness() {
    if (draining) {
      return Page.text(503, "draining\n");
    }
    if (identity != null && !identity.ready().isDone()) {
      return Page.text(503, "waiting for the workload certificate of " + identity.id() + "\n");
    }
    if (gateway != null) {
      return Page.text(200, "ready\n"); // the ingress has no local app to wait for
    }
    String appProblem = appHealth.problem();
    return appProblem == null ? Page.text(200, "ready\n") : Page.text(503, appProblem + "\n");
  }

  private String clustersJson() {
    StringBuilder json = new StringBuilder("{");
    Map<String, Cluster> clusters = new LinkedHashMap<>(outboundClusters.clusters());
    clusters.put("inbound|" + localApp.service(), localApp);
    String separator = "";
    for (Map.Entry<String, Cluster> entry : clusters.entrySet()) {
      json.append(separator).append(Json.quote(entry.getKey())).append(":[");
      String endpointSeparator = "";
      for (Endpoint endpoint : entry.getValue().endpoints()) {
        json.append(endpointSeparator).append("{\"address\":").append(Json.quote(endpoint.address().toString()))
            .append(",\"state\":").append(Json.quote(endpoint.state().name()))
            .append(",\"ejected\":").append(entry.getValue().isEjected(endpoint))
            .append(",\"outstanding\":").append(endpoint.outstanding())
            .append(",\"requests\":").append(endpoint.requests())
            .append(",\"connections\":").append(endpoint.connections())
            .append(",\"ewmaLatencyMillis\":").append(String.format("%.3f", endpoint.ewmaLatencyNanos() / 1e6))
            .append('}');
        endpointSeparator = ",";
      }
      json.append(']');
      separator = ",";
    }
    return json.append('}').toString();
  }

  @Override
  public void close() {
    drain();
    admin.close();
    if (gateway != null) {
      gateway.close();
    }
    appHealth.close();
    if (onDemand != null) {
      onDemand.close();
      controlPlane.close();
    }
    methods.close();
    appMethods.close();
    overload.close();
    if (identity != null) {
      identity.close(); // before the event loops, which carry the issuer's channel
    }
    netty.close();
    if (tracing != null) {
      tracing.close();
    }
  }

  /** The workload identity; empty when the config has identity off. */
  public Optional<WorkloadIdentity> identity() {
    return Optional.ofNullable(identity);
  }

  Duration drainTimeout() {
    return config.drain().timeout();
  }
}
