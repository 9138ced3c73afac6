package io.taskmesh.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a config in its canonical form: every key present, in a fixed order, so that two equal configs
 * give the same text and the same {@link #hash}. {@code MeshConfigParser.parse(toYaml(c))} equals {@code c}.
 * Some parts are written only when they say something: {@code gateway} when present; {@code accessLog},
 * {@code budgets}, {@code overload}, {@code identity} and keys added after the first release when they differ
 * from their defaults (so configs written before they existed keep their hash).
 */
public final class MeshConfigWriter {
  private MeshConfigWriter() {}

  public static String toYaml(MeshConfig config) {
    return YamlTrees.write(toTree(config));
  }

  /** A short hex SHA-256 of the canonical form: the "config hash" sidecars report and the operator counts. */
  public static String hash(MeshConfig config) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(toYaml(config).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** The config as nested maps and lists of plain values, in canonical key order. */
  public static Map<String, Object> toTree(MeshConfig config) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("service", config.service());
    root.put("namespace", config.namespace());
    root.put("inbound", inbound(config.inbound()));
    root.put("outbound", outbound(config.outbound()));
    root.put("tracing", tracing(config.tracing()));
    root.put("admin", Map.of("port", config.admin().port()));
    root.put("drain", Map.of("timeout", Durations.format(config.drain().timeout())));
    if (config.gateway() != null) {
      root.put("gateway", gateway(config.gateway()));
    }
    if (!config.accessLog().equals(AccessLogConfig.DEFAULT)) {
      Map<String, Object> accessLog = new LinkedHashMap<>();
      accessLog.put("enabled", config.accessLog().enabled());
      accessLog.put("sampleRatio", config.accessLog().sampleRatio());
      root.put("accessLog", accessLog);
    }
    if (!config.budgets().equals(BudgetsConfig.DEFAULT)) {
      root.put("budgets", budgets(config.budgets()));
    }
    if (!config.overload().equals(OverloadConfig.DEFAULT)) {
      Map<String, Object> overload = new LinkedHashMap<>();
      overload.put("maxHeapPercent", config.overload().maxHeapPercent());
      overload.put("maxDirectMemoryPercent", config.overload().maxDirectMemoryPercent());
      overload.put("maxEventLoopLag", Durations.format(config.overload().maxEventLoopLag()));
      overload.put("sampleInterval", Durations.format(config.overload().sampleInterval()));
      root.put("overload", overload);
    }
    if (!config.identity().equals(IdentityConfig.OFF)) {
      root.put("identity", identity(config.identity()));
    }
    return root;
  }

  private static Map<String, Object> identity(IdentityConfig identity) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("mode", identity.mode().name().toLowerCase(Locale.ROOT));
    node.put("trustDomain", identity.trustDomain());
    if (identity.issuerAddress() != null) {
      node.put("issuer", identity.issuerAddress());
    }
    node.put("tokenPath", identity.tokenPath());
    node.put("trustBundlePath", identity.trustBundlePath());
    node.put("certLifetime", Durations.format(identity.certLifetime()));
    return node;
  }

  private static Map<String, Object> inbound(InboundConfig inbound) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("port", inbound.port());
    node.put("appPort", inbound.appPort());
    if (inbound.rateLimit() != null) {
      Map<String, Object> limit = new LinkedHashMap<>();
      limit.put("requestsPerSecond", inbound.rateLimit().requestsPerSecond());
      limit.put("burst", inbound.rateLimit().burst());
      node.put("rateLimit", limit);
    }
    node.put("maxConcurrentRequests", inbound.maxConcurrentRequests());
    if (inbound.maxConcurrentStreamingRequests() != 1000) {
      node.put("maxConcurrentStreamingRequests", inbound.maxConcurrentStreamingRequests());
    }
    return node;
  }

  private static Map<String, Object> budgets(BudgetsConfig budgets) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("outbound", listenerBudgets(budgets.outbound()));
    node.put("inbound", listenerBudgets(budgets.inbound()));
    node.put("gateway", listenerBudgets(budgets.gateway()));
    node.put("admin", listenerBudgets(budgets.admin()));
    Map<String, Object> upstream = new LinkedHashMap<>();
    upstream.put("keepaliveInterval", Durations.format(budgets.upstream().keepaliveInterval()));
    upstream.put("keepaliveTimeout", Durations.format(budgets.upstream().keepaliveTimeout()));
    node.put("upstream", upstream);
    return node;
  }

  private static Map<String, Object> listenerBudgets(ListenerBudgets budgets) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("maxConnections", budgets.maxConnections());
    node.put("maxConcurrentStreams", budgets.maxConcurrentStreams());
    node.put("maxStreamBufferBytes", budgets.maxStreamBufferBytes());
    node.put("maxConnectionBufferBytes", budgets.maxConnectionBufferBytes());
    node.put("firstByteTimeout", Durations.format(budgets.firstByteTimeout()));
    node.put("headerTimeout", Durations.format(budgets.headerTimeout()));
    node.put("idleTimeout", Durations.format(budgets.idleTimeout()));
    node.put("maxConnectionAge", Durations.format(budgets.maxConnectionAge()));
    node.put("keepaliveInterval", Durations.format(budgets.keepaliveInterval()));
    node.put("keepaliveTimeout", Durations.format(budgets.keepaliveTimeout()));
    if (!budgets.prematureResets().equals(PrematureResetBudget.DEFAULT)) {
      Map<String, Object> resets = new LinkedHashMap<>();
      resets.put("burst", budgets.prematureResets().burst());
      resets.put("percentOfStreams", budgets.prematureResets().percentOfStreams());
      resets.put("within", Durations.format(budgets.prematureResets().within()));
      node.put("prematureResets", resets);
    }
    return node;
  }

  private static Map<String, Object> outbound(OutboundConfig outbound) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("port", outbound.port());
    Map<String, Object> discovery = new LinkedHashMap<>();
    if (outbound.discovery().address() != null) {
      discovery.put("address", outbound.discovery().address());
    }
    discovery.put("static", new TreeMap<>(outbound.discovery().staticEndpoints()));
    node.put("discovery", discovery);
    node.put("defaults", policy(outbound.defaults()));
    Map<String, Object> upstreams = new TreeMap<>();
    outbound.upstreams().forEach((name, policy) -> upstreams.put(name, policy(policy)));
    node.put("upstreams", upstreams);
    if (!outbound.routes().isEmpty()) { // written only when there are routes, so older configs keep their hash
      Map<String, Object> routes = new TreeMap<>();
      outbound.routes().forEach((service, rules) ->
          routes.put(service, Map.of("rules", rules.stream().map(MeshConfigWriter::routeRule).toList())));
      node.put("routes", routes);
    }
    return node;
  }

  private static Map<String, Object> routeRule(RouteRule rule) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("matches", rule.matches().stream().map(match -> {
      Map<String, Object> method = new LinkedHashMap<>();
      if (match.grpcService() != null) {
        method.put("service", match.grpcService());
      }
      if (match.grpcMethod() != null) {
        method.put("method", match.grpcMethod());
      }
      Map<String, Object> written = new LinkedHashMap<>();
      written.put("method", method);
      written.put("headers", headers(match.headers()));
      return written;
    }).toList());
    node.put("backends", rule.backends().stream().map(backend -> {
      Map<String, Object> written = new LinkedHashMap<>();
      written.put("service", backend.service());
      written.put("weight", backend.weight());
      return written;
    }).toList());
    Map<String, Object> requestHeaders = new LinkedHashMap<>();
    requestHeaders.put("set", headers(rule.requestHeaders().set()));
    requestHeaders.put("add", headers(rule.requestHeaders().add()));
    requestHeaders.put("remove", rule.requestHeaders().remove());
    node.put("requestHeaders", requestHeaders);
    if (rule.timeout() != null) {
      node.put("timeout", Durations.format(rule.timeout()));
    }
    return node;
  }

  private static List<Map<String, Object>> headers(List<Header> headers) {
    return headers.stream().map(header -> {
      Map<String, Object> written = new LinkedHashMap<>();
      written.put("name", header.name());
      written.put("value", header.value());
      return written;
    }).toList();
  }

  private static Map<String, Object> policy(UpstreamPolicy policy) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("timeout", Durations.format(policy.timeout()));
    Map<String, Object> retries = new LinkedHashMap<>();
    retries.put("attempts", policy.retries().attempts());
    retries.put("perTryTimeout", Durations.format(policy.retries().perTryTimeout()));
    retries.put("retryOn", policy.retries().retryOn());
    retries.put("budgetPercent", policy.retries().budgetPercent());
    if (!policy.retries().idempotentMethods().isEmpty()) {
      retries.put("idempotent", policy.retries().idempotentMethods());
    }
    node.put("retries", retries);
    CircuitBreakerPolicy breaker = policy.circuitBreaker();
    Map<String, Object> circuitBreaker = new LinkedHashMap<>();
    circuitBreaker.put("failureRateThreshold", breaker.failureRateThreshold());
    circuitBreaker.put("minimumCalls", breaker.minimumCalls());
    circuitBreaker.put("slidingWindow", breaker.slidingWindow());
    circuitBreaker.put("waitInOpen", Durations.format(breaker.waitInOpen()));
    circuitBreaker.put("permittedInHalfOpen", breaker.permittedInHalfOpen());
    node.put("circuitBreaker", circuitBreaker);
    Map<String, Object> outlier = new LinkedHashMap<>();
    outlier.put("consecutiveFailures", policy.outlierDetection().consecutiveFailures());
    outlier.put("baseEjection", Durations.format(policy.outlierDetection().baseEjection()));
    outlier.put("maxEjectionPercent", policy.outlierDetection().maxEjectionPercent());
    node.put("outlierDetection", outlier);
    node.put("loadBalancer", policy.loadBalancer().name());
    return node;
  }

  private static Map<String, Object> tracing(TracingConfig tracing) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("exporter", tracing.exporter());
    node.put("endpoint", tracing.endpoint());
    node.put("samplingRatio", tracing.samplingRatio());
    node.put("propagators", tracing.propagators());
    return node;
  }

  private static Map<String, Object> gateway(GatewayConfig gateway) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("port", gateway.port());
    node.put("routes", gateway.routes().stream().map(route -> {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("pathPrefix", route.pathPrefix());
      if (route.host() != null) {
        r.put("host", route.host());
      }
      r.put("service", route.service());
      r.put("transcode", route.transcode());
      return r;
    }).toList());
    if (gateway.descriptors() != null) {
      node.put("descriptors", Map.of("file", gateway.descriptors().file()));
    }
    Map<String, Object> limit = new LinkedHashMap<>();
    limit.put("requestsPerMinute", gateway.clientRateLimit().requestsPerMinute());
    limit.put("maxTrackedClients", gateway.clientRateLimit().maxTrackedClients());
    ClientRateLimitConfig clients = gateway.clientRateLimit();
    if (clients.maxConcurrentRequests() != 100 || clients.maxConcurrentStreams() != 20) {
      limit.put("maxConcurrentRequests", clients.maxConcurrentRequests());
      limit.put("maxConcurrentStreams", clients.maxConcurrentStreams());
    }
    if (clients.forwardedFor().trustsNothing()) {
      limit.put("trustForwardedFor", false);
    } else if (clients.forwardedFor().trustedProxies().isEmpty()) {
      limit.put("trustedHops", clients.forwardedFor().trustedHops());
    } else {
      limit.put("trustedProxies", clients.forwardedFor().trustedProxies());
    }
    node.put("clientRateLimit", limit);
    node.put("correlationHeader", gateway.correlationHeader());
    if (gateway.maxRequestBodyBytes() != 1024 * 1024 || !gateway.requestBodyTimeout().equals(java.time.Duration.ofSeconds(30))) {
      node.put("maxRequestBodyBytes", gateway.maxRequestBodyBytes());
      node.put("requestBodyTimeout", Durations.format(gateway.requestBodyTimeout()));
    }
    if (gateway.tls() != null) {
      node.put("tls", Map.of("certFile", gateway.tls().certFile(), "keyFile", gateway.tls().keyFile()));
    }
    return node;
  }
}
