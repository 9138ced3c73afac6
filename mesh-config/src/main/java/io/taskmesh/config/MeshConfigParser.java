package io.taskmesh.config;

import io.taskmesh.identity.SpiffeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a proxy config from YAML or JSON (see docs/CONTRACT.md and sidecar/README.md for the shape). Every omitted key takes its
 * default; unknown keys, wrong types and out-of-range values fail with a {@link ConfigException} naming
 * the key, so a config is either accepted whole or not at all.
 */
public final class MeshConfigParser {
  private static final Pattern SERVICE_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern QUALIFIED_SERVICE_NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)?");
  private static final Duration MILLI = Duration.ofMillis(1);
  private static final Pattern METHOD_PATH = Pattern.compile("/[A-Za-z_][A-Za-z0-9_.]*/[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern GRPC_SERVICE = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
  private static final Pattern GRPC_METHOD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  /** An HTTP/2 header name a route may match or set: lower-case token characters, no pseudo-header. */
  private static final Pattern HEADER_NAME = Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+");
  /** A header the gateway can pass on as gRPC metadata: lower-case token characters, not reserved by gRPC. */
  private static final Pattern METADATA_HEADER = Pattern.compile("[a-z0-9][-a-z0-9_.]{0,63}");

  static final List<String> GRPC_STATUS_NAMES = List.of(
      "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED");
  static final List<String> EXPORTERS = List.of("otlp", "zipkin", "none");
  static final List<String> PROPAGATORS = List.of("tracecontext", "baggage", "b3", "b3multi");

  private MeshConfigParser() {}

  public static MeshConfig parse(String yamlOrJson) {
    Object tree = YamlTrees.read(yamlOrJson);
    if (tree == null) {
      throw new ConfigException("", "the config is empty; at least 'service' is required");
    }
    return fromValue(tree);
  }

  public static MeshConfig load(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage());
    }
  }

  /**
   * Reads an already parsed tree of maps, lists and plain values, e.g. one that another document embeds
   * ({@link MeshConfigJackson#fromTree} reads a Jackson one).
   */
  public static MeshConfig fromTree(Map<String, ?> tree) {
    return fromValue(tree);
  }

  /** The config of a parsed document, whatever its root turned out to be (the error says when not a mapping). */
  static MeshConfig fromValue(Object tree) {
    ConfigNode root = ConfigNode.root(tree);
    String service = root.string("service", null);
    checkName(root.path("service"), service, SERVICE_NAME);
    String namespace = root.string("namespace", "default");
    checkName(root.path("namespace"), namespace, SERVICE_NAME);
    MeshConfig config = new MeshConfig(
        service,
        namespace,
        inbound(root.object("inbound")),
        outbound(root.object("outbound")),
        tracing(root),
        admin(root.object("admin")),
        drain(root.object("drain")),
        root.has("gateway") ? gateway(root.object("gateway")) : null,
        accessLog(root.object("accessLog")),
        budgets(root.object("budgets")),
        overload(root.object("overload")),
        identity(root.object("identity")));
    root.finish();
    return config;
  }

  private static InboundConfig inbound(ConfigNode node) {
    RateLimitConfig rateLimit = null;
    if (node.has("rateLimit")) {
      ConfigNode limit = node.object("rateLimit");
      rateLimit = new RateLimitConfig(
          limit.decimal("requestsPerSecond", 100, 0.001, 1_000_000),
          limit.integer("burst", 200, 1, 10_000_000));
      limit.finish();
    }
    InboundConfig inbound = new InboundConfig(
        port(node, "port", 15006),
        port(node, "appPort", 50051),
        rateLimit,
        node.integer("maxConcurrentRequests", 1000, 1, 1_000_000),
        node.integer("maxConcurrentStreamingRequests", 1000, 1, 1_000_000));
    node.finish();
    return inbound;
  }

  private static OutboundConfig outbound(ConfigNode node) {
    int port = port(node, "port", 15001);
    DiscoveryConfig discovery = discovery(node.object("discovery"));
    UpstreamPolicy defaults = policy(node.object("defaults"), DEFAULT_POLICY);
    Map<String, UpstreamPolicy> upstreams = new LinkedHashMap<>();
    node.entries("upstreams").forEach((name, value) -> {
      checkName(node.path("upstreams") + "." + name, name, QUALIFIED_SERVICE_NAME);
      upstreams.put(name, policy(node.entry("upstreams", name, value), defaults));
    });
    Map<String, List<RouteRule>> routes = new LinkedHashMap<>();
    node.entries("routes").forEach((name, value) -> {
      checkName(node.path("routes") + "." + name, name, SERVICE_NAME);
      ConfigNode routeNode = node.entry("routes", name, value);
      List<RouteRule> rules = new ArrayList<>();
      routeNode.objects("rules").forEach(rule -> rules.add(routeRule(rule)));
      if (rules.isEmpty()) {
        throw new ConfigException(routeNode.path("rules"), "needs at least one rule");
      }
      routeNode.finish();
      routes.put(name, rules);
    });
    node.finish();
    return new OutboundConfig(port, discovery, defaults, upstreams, routes);
  }

  private static RouteRule routeRule(ConfigNode node) {
    List<RouteMatch> matches = new ArrayList<>();
    for (ConfigNode match : node.objects("matches")) {
      ConfigNode method = match.object("method");
      String grpcService = method.optionalString("service");
      String grpcMethod = method.optionalString("method");
      checkPattern(method.path("service"), grpcService, GRPC_SERVICE, "a gRPC service like taskservice.TaskService");
      checkPattern(method.path("method"), grpcMethod, GRPC_METHOD, "a gRPC method name like GetTask");
      method.finish();
      matches.add(new RouteMatch(grpcService, grpcMethod, headers(match, "headers")));
      match.finish();
    }
    List<RouteBackend> backends = new ArrayList<>();
    for (ConfigNode backend : node.objects("backends")) {
      String service = backend.string("service", null);
      checkName(backend.path("service"), service, SERVICE_NAME);
      backends.add(new RouteBackend(service, backend.integer("weight", 1, 0, 1_000_000)));
      backend.finish();
    }
    if (backends.stream().mapToInt(RouteBackend::weight).sum() == 0) {
      throw new ConfigException(node.path("backends"), backends.isEmpty() ? "needs at least one backend"
          : "the weights add up to 0: no backend would get a request");
    }
    ConfigNode modifier = node.object("requestHeaders");
    HeaderModifier requestHeaders = new HeaderModifier(headers(modifier, "set"), headers(modifier, "add"),
        modifier.strings("remove", List.of()));
    requestHeaders.remove().forEach(name -> checkPattern(modifier.path("remove"), name, HEADER_NAME, "a lower-case header name"));
    modifier.finish();
    Duration timeout = node.duration("timeout", null, MILLI, Duration.ofHours(1));
    node.finish();
    return new RouteRule(matches, backends, requestHeaders, timeout);
  }

  private static List<Header> headers(ConfigNode node, String key) {
    List<Header> headers = new ArrayList<>();
    for (ConfigNode header : node.objects(key)) {
      String name = header.string("name", null);
      checkPattern(header.path("name"), name, HEADER_NAME, "a lower-case header name");
      headers.add(new Header(name, header.string("value", null)));
      header.finish();
    }
    return headers;
  }

  private static void checkPattern(String key, String value, Pattern pattern, String what) {
    if (value != null && !pattern.matcher(value).matches()) {
      throw new ConfigException(key, "'" + value + "' is not " + what);
    }
  }

  private static DiscoveryConfig discovery(ConfigNode node) {
    String address = node.optionalString("address");
    if (address != null) {
      checkHostPort(node.path("address"), address);
    }
    Map<String, List<String>> endpoints = new LinkedHashMap<>();
    ConfigNode staticNode = node.object("static");
    node.entries("static").forEach((name, value) -> {
      String key = node.path("static") + "." + name;
      checkName(key, name, QUALIFIED_SERVICE_NAME);
      List<String> addresses = staticNode.strings(name, List.of());
      addresses.forEach(a -> checkHostPort(key, a));
      endpoints.put(name, List.copyOf(addresses));
    });
    staticNode.finish();
    node.finish();
    return new DiscoveryConfig(address, endpoints);
  }

  static final UpstreamPolicy DEFAULT_POLICY = new UpstreamPolicy(
      Duration.ofSeconds(5),
      new RetryPolicy(2, Duration.ofSeconds(1), List.of("UNAVAILABLE"), 20),
      new CircuitBreakerPolicy(50, 20, 50, Duration.ofSeconds(30), 5),
      new OutlierDetectionPolicy(5, Duration.ofSeconds(30), 50),
      LoadBalancerPolicy.P2C_EWMA);

  /** Reads a policy whose every omitted key is taken from {@code base}. */
  private static UpstreamPolicy policy(ConfigNode node, UpstreamPolicy base) {
    Duration timeout = node.duration("timeout", base.timeout(), MILLI, Duration.ofHours(1));

    ConfigNode retriesNode = node.object("retries");
    RetryPolicy retryBase = base.retries();
    RetryPolicy retries = new RetryPolicy(
        retriesNode.integer("attempts", retryBase.attempts(), 1, 10),
        retriesNode.duration("perTryTimeout", retryBase.perTryTimeout(), MILLI, Duration.ofHours(1)),
        retriesNode.choices("retryOn", retryBase.retryOn(), GRPC_STATUS_NAMES),
        retriesNode.integer("budgetPercent", retryBase.budgetPercent(), 0, 100),
        retriesNode.strings("idempotent", retryBase.idempotentMethods()));
    retries.idempotentMethods().forEach(method -> checkMethodPath(retriesNode.path("idempotent"), method));
    retriesNode.finish();

    ConfigNode breakerNode = node.object("circuitBreaker");
    CircuitBreakerPolicy breakerBase = base.circuitBreaker();
    CircuitBreakerPolicy breaker = new CircuitBreakerPolicy(
        breakerNode.integer("failureRateThreshold", breakerBase.failureRateThreshold(), 1, 100),
        breakerNode.integer("minimumCalls", breakerBase.minimumCalls(), 1, 100_000),
        breakerNode.integer("slidingWindow", breakerBase.slidingWindow(), 1, 100_000),
        breakerNode.duration("waitInOpen", breakerBase.waitInOpen(), MILLI, Duration.ofHours(1)),
        breakerNode.integer("permittedInHalfOpen", breakerBase.permittedInHalfOpen(), 1, 10_000));
    breakerNode.finish();

    ConfigNode outlierNode = node.object("outlierDetection");
    OutlierDetectionPolicy outlierBase = base.outlierDetection();
    OutlierDetectionPolicy outlier = new OutlierDetectionPolicy(
        outlierNode.integer("consecutiveFailures", outlierBase.consecutiveFailures(), 1, 10_000),
        outlierNode.duration("baseEjection", outlierBase.baseEjection(), MILLI, Duration.ofHours(1)),
        outlierNode.integer("maxEjectionPercent", outlierBase.maxEjectionPercent(), 0, 100));
    outlierNode.finish();

    LoadBalancerPolicy loadBalancer = node.enumValue("loadBalancer", base.loadBalancer(), LoadBalancerPolicy.class);
    node.finish();
    return new UpstreamPolicy(timeout, retries, breaker, outlier, loadBalancer);
  }

  /** No {@code tracing} section means no tracing; a section without an exporter means OTLP. */
  private static TracingConfig tracing(ConfigNode root) {
    if (!root.has("tracing")) {
      return new TracingConfig("none", "http://localhost:4318", 1.0, List.of("tracecontext", "baggage", "b3"));
    }
    ConfigNode node = root.object("tracing");
    String exporter = node.choice("exporter", "otlp", EXPORTERS);
    String defaultEndpoint = exporter.equals("zipkin") ? "http://localhost:9411" : "http://localhost:4318";
    TracingConfig tracing = new TracingConfig(
        exporter,
        url(node, "endpoint", defaultEndpoint),
        node.decimal("samplingRatio", 1.0, 0.0, 1.0),
        node.choices("propagators", List.of("tracecontext", "baggage", "b3"), PROPAGATORS));
    node.finish();
    return tracing;
  }

  private static AdminConfig admin(ConfigNode node) {
    AdminConfig admin = new AdminConfig(port(node, "port", 15000));
    node.finish();
    return admin;
  }

  private static DrainConfig drain(ConfigNode node) {
    DrainConfig drain = new DrainConfig(node.duration("timeout", Duration.ofSeconds(20), Duration.ZERO, Duration.ofMinutes(10)));
    node.finish();
    return drain;
  }

  private static AccessLogConfig accessLog(ConfigNode node) {
    AccessLogConfig accessLog = new AccessLogConfig(
        node.bool("enabled", AccessLogConfig.DEFAULT.enabled()),
        node.decimal("sampleRatio", AccessLogConfig.DEFAULT.sampleRatio(), 0.0, 1.0));
    node.finish();
    return accessLog;
  }

  private static IdentityConfig identity(ConfigNode node) {
    IdentityMode mode = node.isFalse("mode") ? IdentityMode.OFF
        : node.enumValue("mode", IdentityMode.OFF, IdentityMode.class);
    String trustDomain = node.string("trustDomain", IdentityConfig.DEFAULT_TRUST_DOMAIN);
    try {
      SpiffeId.checkTrustDomain(trustDomain);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(node.path("trustDomain"), e.getMessage());
    }
    String issuer = node.optionalString("issuer");
    if (issuer != null) {
      checkHostPort(node.path("issuer"), issuer);
    } else if (mode != IdentityMode.OFF) {
      throw new ConfigException(node.path("issuer"), "is required when mode is " + mode.name().toLowerCase(Locale.ROOT)
          + " (the operator's issuer, e.g. taskmesh-operator.taskmesh-system.svc:15012)");
    }
    IdentityConfig identity = new IdentityConfig(mode, trustDomain, issuer,
        absolutePath(node, "tokenPath", IdentityConfig.DEFAULT_TOKEN_PATH),
        absolutePath(node, "trustBundlePath", IdentityConfig.DEFAULT_TRUST_BUNDLE_PATH),
        node.duration("certLifetime", IdentityConfig.DEFAULT_CERT_LIFETIME, Duration.ofMinutes(10),
            Duration.ofDays(30)));
    node.finish();
    return identity;
  }

  private static String absolutePath(ConfigNode node, String key, String defaultValue) {
    String path = node.string(key, defaultValue);
    if (!path.startsWith("/")) {
      throw new ConfigException(node.path(key), "must be an absolute path, got '" + path + "'");
    }
    return path;
  }

  private static GatewayConfig gateway(ConfigNode node) {
    List<GatewayRoute> routes = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (ConfigNode route : node.objects("routes")) {
      String pathPrefix = route.string("pathPrefix", "/");
      if (!pathPrefix.startsWith("/")) {
        throw new ConfigException(route.path("pathPrefix"), "must start with '/', got '" + pathPrefix + "'");
      }
      String host = route.optionalString("host");
      String service = route.string("service", null);
      checkName(route.path("service"), service, QUALIFIED_SERVICE_NAME);
      if (!seen.add(host + " " + pathPrefix)) {
        throw new ConfigException(route.path("pathPrefix"), "'" + pathPrefix + "' is routed twice"
            + (host == null ? "" : " for host '" + host + "'"));
      }
      routes.add(new GatewayRoute(pathPrefix, host, service, route.bool("transcode", false)));
      route.finish();
    }
    DescriptorsConfig descriptors = null;
    if (node.has("descriptors")) {
      ConfigNode descriptorsNode = node.object("descriptors");
      descriptors = new DescriptorsConfig(descriptorsNode.string("file", null));
      descriptorsNode.finish();
    }
    ConfigNode limitNode = node.object("clientRateLimit");
    ClientRateLimitConfig clientRateLimit = new ClientRateLimitConfig(
        limitNode.integer("requestsPerMinute", 100, 1, 10_000_000),
        limitNode.integer("maxTrackedClients", 100_000, 1, 10_000_000),
        limitNode.integer("maxConcurrentRequests", 100, 1, 1_000_000),
        limitNode.integer("maxConcurrentStreams", 20, 1, 1_000_000),
        forwardedFor(limitNode));
    limitNode.finish();
    String correlationHeader = node.string("correlationHeader", "x-correlation-id").toLowerCase(java.util.Locale.ROOT);
    if (!METADATA_HEADER.matcher(correlationHeader).matches() || correlationHeader.startsWith("grpc-")
        || correlationHeader.endsWith("-bin")) {
      throw new ConfigException(node.path("correlationHeader"), "'" + correlationHeader + "' cannot be passed on as"
          + " gRPC metadata (letters, digits, '-', '_', '.'; not grpc-* or *-bin)");
    }
    GatewayConfig gateway = new GatewayConfig(
        port(node, "port", 8080), routes, descriptors, clientRateLimit, correlationHeader,
        node.integer("maxRequestBodyBytes", 1024 * 1024, 1, 64 * 1024 * 1024),
        node.duration("requestBodyTimeout", Duration.ofSeconds(30), Duration.ZERO, Duration.ofHours(1)),
        node.has("tls") ? gatewayTls(node.object("tls")) : null);
    node.finish();
    return gateway;
  }

  /** Both files are required: the files themselves are read (and checked) when the gateway starts. */
  private static GatewayTlsConfig gatewayTls(ConfigNode node) {
    for (String key : List.of("certFile", "keyFile")) {
      if (!node.has(key)) {
        throw new ConfigException(node.path(key), "is required in gateway.tls (e.g. /etc/taskmesh/tls/tls."
            + (key.equals("certFile") ? "crt" : "key") + " from a kubernetes.io/tls Secret)");
      }
    }
    GatewayTlsConfig tls = new GatewayTlsConfig(absolutePath(node, "certFile", null), absolutePath(node, "keyFile", null));
    node.finish();
    return tls;
  }

  /**
   * {@code trustedHops} or {@code trustedProxies}, not both; {@code trustForwardedFor: true} (the older form)
   * means one trusted hop.
   */
  private static ForwardedForTrust forwardedFor(ConfigNode limit) {
    boolean legacy = limit.bool("trustForwardedFor", false);
    int hops = limit.integer("trustedHops", legacy ? 1 : 0, 0, 16);
    List<String> proxies = limit.strings("trustedProxies", List.of());
    for (String proxy : proxies) {
      try {
        Cidr.parse(proxy);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(limit.path("trustedProxies"), e.getMessage());
      }
    }
    if (hops > 0 && !proxies.isEmpty()) {
      throw new ConfigException(limit.path("trustedHops"), "give trustedHops or trustedProxies, not both");
    }
    if (legacy && limit.has("trustedHops")) {
      throw new ConfigException(limit.path("trustForwardedFor"), "is the older form of trustedHops: 1; give only one");
    }
    return new ForwardedForTrust(hops, proxies);
  }

  private static BudgetsConfig budgets(ConfigNode node) {
    BudgetsConfig defaults = BudgetsConfig.DEFAULT;
    ConfigNode upstreamNode = node.object("upstream");
    UpstreamConnectionBudgets upstream = new UpstreamConnectionBudgets(
        upstreamNode.duration("keepaliveInterval", defaults.upstream().keepaliveInterval(), Duration.ZERO, Duration.ofHours(2)),
        upstreamNode.duration("keepaliveTimeout", defaults.upstream().keepaliveTimeout(), Duration.ZERO, Duration.ofHours(1)));
    upstreamNode.finish();
    BudgetsConfig budgets = new BudgetsConfig(
        listenerBudgets(node.object("outbound"), defaults.outbound()),
        listenerBudgets(node.object("inbound"), defaults.inbound()),
        listenerBudgets(node.object("gateway"), defaults.gateway()),
        listenerBudgets(node.object("admin"), defaults.admin()),
        upstream);
    node.finish();
    return budgets;
  }

  private static ListenerBudgets listenerBudgets(ConfigNode node, ListenerBudgets base) {
    ListenerBudgets budgets = new ListenerBudgets(
        node.integer("maxConnections", base.maxConnections(), 1, 1_000_000),
        node.integer("maxConcurrentStreams", base.maxConcurrentStreams(), 1, 100_000),
        node.integer("maxStreamBufferBytes", base.maxStreamBufferBytes(), 65_535, 64 * 1024 * 1024),
        node.integer("maxConnectionBufferBytes", base.maxConnectionBufferBytes(), 2 * 65_535, Integer.MAX_VALUE),
        node.duration("firstByteTimeout", base.firstByteTimeout(), Duration.ZERO, Duration.ofHours(1)),
        node.duration("headerTimeout", base.headerTimeout(), Duration.ZERO, Duration.ofHours(1)),
        node.duration("idleTimeout", base.idleTimeout(), Duration.ZERO, Duration.ofDays(1)),
        node.duration("maxConnectionAge", base.maxConnectionAge(), Duration.ZERO, Duration.ofDays(30)),
        node.duration("keepaliveInterval", base.keepaliveInterval(), Duration.ZERO, Duration.ofHours(2)),
        node.duration("keepaliveTimeout", base.keepaliveTimeout(), Duration.ZERO, Duration.ofHours(1)),
        prematureResets(node.object("prematureResets"), base.prematureResets()));
    if ((long) budgets.maxConnectionBufferBytes() < 2L * budgets.maxStreamBufferBytes()) {
      throw new ConfigException(node.path("maxConnectionBufferBytes"), "must be at least twice maxStreamBufferBytes ("
          + 2L * budgets.maxStreamBufferBytes() + "), so one stream cannot take a connection's whole window");
    }
    if (!budgets.keepaliveInterval().isZero() && budgets.keepaliveTimeout().isZero()) {
      throw new ConfigException(node.path("keepaliveTimeout"), "must be set when keepaliveInterval is (a PING nobody"
          + " waits for detects nothing)");
    }
    node.finish();
    return budgets;
  }

  private static PrematureResetBudget prematureResets(ConfigNode node, PrematureResetBudget base) {
    PrematureResetBudget budget = new PrematureResetBudget(
        node.integer("burst", base.burst(), 0, 1_000_000),
        node.integer("percentOfStreams", base.percentOfStreams(), 1, 100),
        node.duration("within", base.within(), Duration.ofMillis(1), Duration.ofMinutes(1)));
    node.finish();
    return budget;
  }

  private static OverloadConfig overload(ConfigNode node) {
    OverloadConfig defaults = OverloadConfig.DEFAULT;
    OverloadConfig overload = new OverloadConfig(
        node.integer("maxHeapPercent", defaults.maxHeapPercent(), 1, 100),
        node.integer("maxDirectMemoryPercent", defaults.maxDirectMemoryPercent(), 1, 100),
        node.duration("maxEventLoopLag", defaults.maxEventLoopLag(), Duration.ZERO, Duration.ofMinutes(1)),
        node.duration("sampleInterval", defaults.sampleInterval(), MILLI, Duration.ofMinutes(1)));
    node.finish();
    return overload;
  }

  /** Port 0 is accepted and means "any free port", which tests use. */
  private static int port(ConfigNode node, String key, int defaultValue) {
    return node.integer(key, defaultValue, 0, 65_535);
  }

  private static String url(ConfigNode node, String key, String defaultValue) {
    String url = node.string(key, defaultValue);
    if (!url.startsWith("http://") && !url.startsWith("https://")) {
      throw new ConfigException(node.path(key), "must be an http:// or https:// URL, got '" + url + "'");
    }
    return url;
  }

  private static void checkMethodPath(String key, String path) {
    if (!METHOD_PATH.matcher(path).matches()) {
      throw new ConfigException(key, "'" + path + "' is not a gRPC method path like /package.Service/Method");
    }
  }

  private static void checkName(String key, String name, Pattern pattern) {
    if (!pattern.matcher(name).matches()) {
      throw new ConfigException(key, "'" + name + "' is not a valid name (lower-case letters, digits and '-', "
          + "at most 63 characters" + (pattern == QUALIFIED_SERVICE_NAME ? ", optionally '.namespace'" : "") + ")");
    }
  }

  static void checkHostPort(String key, String address) {
    int colon = address.lastIndexOf(':');
    String host = colon > 0 ? address.substring(0, colon) : "";
    String port = colon > 0 ? address.substring(colon + 1) : "";
    boolean valid = !host.isEmpty() && port.matches("\\d{1,5}") && Integer.parseInt(port) <= 65_535
        && (!host.contains(":") || (host.startsWith("[") && host.endsWith("]")));
    if (!valid) {
      throw new ConfigException(key, "'" + address + "' is not host:port (IPv6 as [::1]:port)");
    }
  }
}
