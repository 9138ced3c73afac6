package io.taskmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshConfigParserTest {

  private static final String DESIGN_EXAMPLE = """
      service: task-service
      namespace: default
      inbound:
        port: 15006
        appPort: 50051
        rateLimit: {requestsPerSecond: 100, burst: 200}
        maxConcurrentRequests: 1000
      outbound:
        port: 15001
        discovery: {address: "taskmesh-operator.taskmesh-system.svc:15010", static: {task-service: ["127.0.0.1:25006"]}}
        defaults:
          timeout: 5s
          retries: {attempts: 2, perTryTimeout: 1s, retryOn: [UNAVAILABLE], budgetPercent: 20}
          circuitBreaker: {failureRateThreshold: 50, minimumCalls: 20, slidingWindow: 50, waitInOpen: 30s, permittedInHalfOpen: 5}
          outlierDetection: {consecutiveFailures: 5, baseEjection: 30s, maxEjectionPercent: 50}
          loadBalancer: P2C_EWMA
        upstreams:
          billing: {timeout: 2s, retries: {attempts: 3}, loadBalancer: ROUND_ROBIN}
      tracing: {exporter: otlp, endpoint: "http://otel-collector:4318", samplingRatio: 1.0, propagators: [tracecontext, baggage, b3]}
      admin: {port: 15000}
      drain: {timeout: 20s}
      gateway:
        port: 8080
        routes:
          - {pathPrefix: /api/tasks, service: task-service, transcode: true}
        descriptors: {file: /etc/taskmesh/descriptors.pb}
        clientRateLimit: {requestsPerMinute: 100, maxTrackedClients: 100000, trustForwardedFor: false}
        correlationHeader: x-correlation-id
      """;

  @Test
  void theDesignDocumentsExampleParsesIntoTheRecords() {
    MeshConfig config = MeshConfigParser.parse(DESIGN_EXAMPLE);

    assertThat(config.service()).isEqualTo("task-service");
    assertThat(config.inbound().rateLimit()).isEqualTo(new RateLimitConfig(100, 200));
    assertThat(config.outbound().discovery().address()).isEqualTo("taskmesh-operator.taskmesh-system.svc:15010");
    assertThat(config.outbound().discovery().staticEndpoints()).containsEntry("task-service", List.of("127.0.0.1:25006"));
    assertThat(config.outbound().defaults().retries().perTryTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.tracing().exporter()).isEqualTo("otlp");
    assertThat(config.gateway().routes()).containsExactly(new GatewayRoute("/api/tasks", null, "task-service", true));
    assertThat(config.gateway().descriptors().file()).isEqualTo("/etc/taskmesh/descriptors.pb");
  }

  @Test
  void everyOmittedKeyTakesTheDesignDefault() {
    MeshConfig config = MeshConfig.defaults("task-service");

    assertThat(config.namespace()).isEqualTo("default");
    assertThat(config.inbound()).isEqualTo(new InboundConfig(15006, 50051, null, 1000, 1000));
    assertThat(config.outbound().port()).isEqualTo(15001);
    assertThat(config.outbound().discovery().hasControlPlane()).isFalse();
    UpstreamPolicy defaults = config.outbound().defaults();
    assertThat(defaults.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(defaults.retries()).isEqualTo(new RetryPolicy(2, Duration.ofSeconds(1), List.of("UNAVAILABLE"), 20));
    assertThat(defaults.circuitBreaker()).isEqualTo(new CircuitBreakerPolicy(50, 20, 50, Duration.ofSeconds(30), 5));
    assertThat(defaults.outlierDetection()).isEqualTo(new OutlierDetectionPolicy(5, Duration.ofSeconds(30), 50));
    assertThat(defaults.loadBalancer()).isEqualTo(LoadBalancerPolicy.P2C_EWMA);
    assertThat(config.tracing().enabled()).isFalse();
    assertThat(config.admin().port()).isEqualTo(15000);
    assertThat(config.drain().timeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(config.isGateway()).isFalse();
  }

  @Test
  void anUpstreamOverrideReplacesOnlyTheKeysItNames() {
    MeshConfig config = MeshConfigParser.parse(DESIGN_EXAMPLE);

    UpstreamPolicy billing = config.outbound().policyFor("billing");
    assertThat(billing.timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(billing.retries().attempts()).isEqualTo(3);
    assertThat(billing.retries().perTryTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(billing.loadBalancer()).isEqualTo(LoadBalancerPolicy.ROUND_ROBIN);
    assertThat(billing.circuitBreaker()).isEqualTo(config.outbound().defaults().circuitBreaker());
    assertThat(config.outbound().policyFor("anything-else")).isEqualTo(config.outbound().defaults());
  }

  @Test
  void aTracingSectionWithoutExporterMeansOtlp() {
    MeshConfig config = MeshConfigParser.parse("service: a\ntracing: {samplingRatio: 0.25}\n");

    assertThat(config.tracing().exporter()).isEqualTo("otlp");
    assertThat(config.tracing().samplingRatio()).isEqualTo(0.25);
  }

  @Test
  void jsonIsReadAsWellAsYaml() {
    MeshConfig config = MeshConfigParser.parse("{\"service\": \"a\", \"inbound\": {\"appPort\": 8080}}");

    assertThat(config.inbound().appPort()).isEqualTo(8080);
  }

  @Test
  void loadReadsAFile(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("proxy.yaml"), DESIGN_EXAMPLE);

    assertThat(MeshConfigParser.load(file)).isEqualTo(MeshConfigParser.parse(DESIGN_EXAMPLE));
  }

  @Test
  void aMissingFileIsAConfigErrorNamingTheFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");

    assertThatThrownBy(() -> MeshConfigParser.load(missing))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(missing.toString());
  }

  @Test
  void anUnknownKeyIsRejectedWithItsFullPathAndTheAllowedKeys() {
    assertConfigError("service: a\noutbound: {defaults: {retries: {attemps: 3}}}\n",
        "outbound.defaults.retries.attemps", "unknown key", "attempts");
    assertConfigError("service: a\ncolour: blue\n", "colour", "unknown key");
  }

  @Test
  void outOfRangeValuesNameTheKeyAndTheValue() {
    assertConfigError("service: a\noutbound: {defaults: {retries: {attempts: 42}}}\n",
        "outbound.defaults.retries.attempts", "between 1 and 10", "42");
    assertConfigError("service: a\ninbound: {port: 70000}\n", "inbound.port", "70000");
    assertConfigError("service: a\ntracing: {samplingRatio: 1.5}\n", "tracing.samplingRatio", "1.5");
    assertConfigError("service: a\noutbound: {defaults: {circuitBreaker: {failureRateThreshold: 0}}}\n",
        "outbound.defaults.circuitBreaker.failureRateThreshold", "between 1 and 100");
  }

  @Test
  void wrongTypesNameTheKey() {
    assertConfigError("service: a\ninbound: {port: fifteen}\n", "inbound.port", "whole number", "fifteen");
    assertConfigError("service: a\ninbound: 3\n", "inbound", "mapping");
    assertConfigError("service: a\noutbound: {defaults: {retries: {retryOn: UNAVAILABLE}}}\n",
        "outbound.defaults.retries.retryOn", "list");
  }

  @Test
  void badDurationsSayHowToWriteOne() {
    assertConfigError("service: a\noutbound: {defaults: {timeout: 5 seconds}}\n",
        "outbound.defaults.timeout", "500ms, 5s, 2m");
    assertConfigError("service: a\noutbound: {defaults: {timeout: 0}}\n", "outbound.defaults.timeout", "between 1ms");
  }

  @Test
  void enumsAndNamesAreChecked() {
    assertConfigError("service: a\noutbound: {defaults: {loadBalancer: RANDOM}}\n",
        "outbound.defaults.loadBalancer", "P2C_EWMA", "RANDOM");
    assertConfigError("service: a\noutbound: {defaults: {retries: {retryOn: [UNAVAILABEL]}}}\n",
        "outbound.defaults.retries.retryOn", "UNAVAILABEL");
    assertConfigError("service: a\ntracing: {exporter: jaeger}\n", "tracing.exporter", "jaeger");
    assertConfigError("service: Task_Service\n", "service", "Task_Service");
    assertConfigError("service: a\noutbound: {upstreams: {Bad_Name: {}}}\n", "outbound.upstreams.Bad_Name", "valid name");
  }

  @Test
  void aServicesRoutesAreReadAsRulesWithMatchesWeightedBackendsHeaderChangesAndTimeout() {
    MeshConfig config = MeshConfigParser.parse("""
        service: a
        outbound:
          routes:
            task-service:
              rules:
                - matches: [{method: {service: taskservice.TaskService, method: GetTask},
                             headers: [{name: x-api-version, value: v2}]}]
                  backends: [{service: task-service-v2}]
                  requestHeaders: {set: [{name: x-routed, value: v2}], remove: [x-debug]}
                  timeout: 2s
                - backends: [{service: task-service-v1, weight: 90}, {service: task-service-v2, weight: 10}]
        """);

    List<RouteRule> rules = config.outbound().routes().get("task-service");
    assertThat(rules).hasSize(2);
    assertThat(rules.get(0).matches()).containsExactly(new RouteMatch("taskservice.TaskService", "GetTask",
        List.of(new Header("x-api-version", "v2"))));
    assertThat(rules.get(0).backends()).containsExactly(new RouteBackend("task-service-v2", 1));
    assertThat(rules.get(0).requestHeaders()).isEqualTo(
        new HeaderModifier(List.of(new Header("x-routed", "v2")), List.of(), List.of("x-debug")));
    assertThat(rules.get(0).timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(rules.get(1).matches()).as("matches every request").isEmpty();
    assertThat(rules.get(1).backends()).extracting(RouteBackend::weight).containsExactly(90, 10);
    assertThat(rules.get(1).timeout()).as("the service's timeout applies").isNull();
  }

  @Test
  void routesThatCouldSendNothingAnywhereAreRefusedNamingTheKey() {
    assertConfigError("service: a\noutbound: {routes: {b: {rules: []}}}\n", "outbound.routes.b.rules", "at least one rule");
    assertConfigError("service: a\noutbound: {routes: {b: {rules: [{matches: []}]}}}\n",
        "outbound.routes.b.rules[0].backends", "at least one backend");
    assertConfigError("service: a\noutbound: {routes: {b: {rules: [{backends: [{service: c, weight: 0}]}]}}}\n",
        "outbound.routes.b.rules[0].backends", "add up to 0");
    assertConfigError("service: a\noutbound: {routes: {b: {rules: [{backends: [{service: C_}]}]}}}\n",
        "outbound.routes.b.rules[0].backends[0].service", "C_");
    assertConfigError("service: a\noutbound: {routes: {b: {rules: [{matches: [{headers: [{name: X-Api, value: v2}]}],"
        + " backends: [{service: c}]}]}}}\n", "outbound.routes.b.rules[0].matches[0].headers[0].name", "X-Api");
  }

  @Test
  void idempotentMethodsAreGrpcMethodPaths() {
    MeshConfig config = MeshConfigParser.parse(
        "service: a\noutbound: {defaults: {retries: {idempotent: [/taskservice.TaskService/UpdateTask]}}}\n");

    assertThat(config.outbound().defaults().retries().idempotentMethods())
        .containsExactly("/taskservice.TaskService/UpdateTask");
    assertThat(config.outbound().policyFor("billing").retries().idempotentMethods())
        .as("every upstream inherits the defaults").containsExactly("/taskservice.TaskService/UpdateTask");
    assertConfigError("service: a\noutbound: {defaults: {retries: {idempotent: [UpdateTask]}}}\n",
        "outbound.defaults.retries.idempotent", "UpdateTask", "/package.Service/Method");
  }

  @Test
  void staticEndpointsMustBeHostAndPort() {
    assertConfigError("service: a\noutbound: {discovery: {static: {b: [\"127.0.0.1\"]}}}\n",
        "outbound.discovery.static.b", "host:port");
    assertConfigError("service: a\noutbound: {discovery: {address: \"control-plane\"}}\n",
        "outbound.discovery.address", "host:port");
    MeshConfig ipv6 = MeshConfigParser.parse("service: a\noutbound: {discovery: {static: {b: [\"[::1]:9000\"]}}}\n");
    assertThat(ipv6.outbound().discovery().staticEndpoints().get("b")).containsExactly("[::1]:9000");
  }

  @Test
  void theServiceNameIsRequiredAndGarbageIsNotAConfig() {
    assertConfigError("inbound: {port: 1}\n", "service", "required");
    assertConfigError("", "", "empty");
    assertConfigError("service: [unclosed\n", "", "not valid YAML");
  }

  @Test
  void gatewayRoutesAreValidated() {
    assertConfigError("service: gw\ngateway: {routes: [{pathPrefix: api, service: a}]}\n",
        "gateway.routes[0].pathPrefix", "must start with '/'");
    assertConfigError("service: gw\ngateway: {routes: [{pathPrefix: /api}]}\n", "gateway.routes[0].service", "required");
    assertConfigError("service: gw\ngateway: {routes: [{pathPrefix: /api, service: a}, {pathPrefix: /api, service: b}]}\n",
        "gateway.routes[1].pathPrefix", "'/api' is routed twice");
  }

  @Test
  void gatewayKeysAreValidated() {
    assertConfigError("service: gw\ngateway: {correlationHeader: grpc-message}\n", "gateway.correlationHeader",
        "cannot be passed on as gRPC metadata");
    assertConfigError("service: gw\ngateway: {correlationHeader: \"x id\"}\n", "gateway.correlationHeader", "'x id'");
    assertConfigError("service: gw\ngateway: {clientRateLimit: {requestsPerMinute: 0}}\n",
        "gateway.clientRateLimit.requestsPerMinute", "");
    assertConfigError("service: gw\ngateway: {descriptors: {}}\n", "gateway.descriptors.file", "required");
    assertConfigError("service: gw\ngateway: {colour: red}\n", "gateway.colour", "");
    assertThat(MeshConfigParser.parse("service: gw\ngateway: {correlationHeader: X-Request-ID}\n").gateway()
        .correlationHeader()).isEqualTo("x-request-id");
  }

  @Test
  void gatewayTlsNamesBothFilesAsAbsolutePaths() {
    assertThat(MeshConfigParser.parse("service: gw\ngateway: {}\n").gateway().tls()).isNull();
    assertThat(MeshConfigParser.parse("service: gw\ngateway: {tls: {certFile: /tls/tls.crt, keyFile: /tls/tls.key}}\n")
        .gateway().tls()).isEqualTo(new GatewayTlsConfig("/tls/tls.crt", "/tls/tls.key"));
    assertConfigError("service: gw\ngateway: {tls: {certFile: /tls/tls.crt}}\n", "gateway.tls.keyFile", "is required");
    assertConfigError("service: gw\ngateway: {tls: {certFile: tls.crt, keyFile: /tls/tls.key}}\n", "gateway.tls.certFile",
        "absolute path");
    assertConfigError("service: gw\ngateway: {tls: {certFile: /a, keyFile: /b, minVersion: TLSv1.1}}\n",
        "gateway.tls.minVersion", "");
  }

  @Test
  void gatewayServerCertificatesNameTheirServerNamesAndFiles() {
    String tls = "service: gw\ngateway: {tls: {certFile: /tls/tls.crt, keyFile: /tls/tls.key, certificates: [%s]}}\n";
    assertThat(MeshConfigParser.parse(tls.formatted(
        "{serverNames: [API.example.com, '*.example.org'], certFile: /api/tls.crt, keyFile: /api/tls.key}"))
        .gateway().tls().certificates()).containsExactly(new GatewayTlsConfig.ServerCertificate(
            java.util.List.of("api.example.com", "*.example.org"), "/api/tls.crt", "/api/tls.key"));
    assertConfigError(tls.formatted("{certFile: /a, keyFile: /b}"), "gateway.tls.certificates[0].serverNames",
        "is required");
    assertConfigError(tls.formatted("{serverNames: [], certFile: /a, keyFile: /b}"),
        "gateway.tls.certificates[0].serverNames", "at least one");
    assertConfigError(tls.formatted("{serverNames: ['api.*.com'], certFile: /a, keyFile: /b}"),
        "gateway.tls.certificates[0].serverNames", "api.*.com");
    assertConfigError(tls.formatted("{serverNames: [a.example.com], certFile: /a, keyFile: /b},"
        + " {serverNames: [A.example.com], certFile: /c, keyFile: /d}"), "gateway.tls.certificates[1].serverNames",
        "listed for two certificates");
    assertConfigError(tls.formatted("{serverNames: [a.example.com], certFile: a.crt, keyFile: /b}"),
        "gateway.tls.certificates[0].certFile", "absolute path");
  }

  @Test
  void gatewayClientAuthNeedsACaFileAndRequiresACertificateUnlessOptional() {
    String tls = "service: gw\ngateway: {tls: {certFile: /tls/tls.crt, keyFile: /tls/tls.key, clientAuth: %s}}\n";
    assertThat(MeshConfigParser.parse(tls.formatted("{caFile: /ca/ca.crt}")).gateway().tls().clientAuth())
        .isEqualTo(new GatewayTlsConfig.ClientAuth(GatewayTlsConfig.ClientAuthMode.REQUIRE, "/ca/ca.crt"));
    assertThat(MeshConfigParser.parse(tls.formatted("{mode: optional, caFile: /ca/ca.crt}")).gateway().tls()
        .clientAuth().mode()).isEqualTo(GatewayTlsConfig.ClientAuthMode.OPTIONAL);
    assertThat(MeshConfigParser.parse(tls.formatted("{caFile: /ca/ca.crt}").replace(", clientAuth: {caFile: /ca/ca.crt}", ""))
        .gateway().tls().clientAuth()).isNull();
    assertConfigError(tls.formatted("{mode: require}"), "gateway.tls.clientAuth.caFile", "is required");
    assertConfigError(tls.formatted("{mode: sometimes, caFile: /ca/ca.crt}"), "gateway.tls.clientAuth.mode", "sometimes");
    assertConfigError(tls.formatted("{caFile: ca.crt}"), "gateway.tls.clientAuth.caFile", "absolute path");
  }

  @Test
  void theAccessLogIsOffByDefaultAndReadWhenConfigured() {
    assertThat(MeshConfig.defaults("a").accessLog()).isEqualTo(new AccessLogConfig(false, 1.0));
    MeshConfig config = MeshConfigParser.parse("service: a\naccessLog: {enabled: true, sampleRatio: 0.1}\n");
    assertThat(config.accessLog()).isEqualTo(new AccessLogConfig(true, 0.1));
    assertThat(MeshConfigParser.parse("service: a\naccessLog: {enabled: true}\n").accessLog().sampleRatio())
        .isEqualTo(1.0);
  }

  @Test
  void accessLogKeysAreValidated() {
    assertConfigError("service: a\naccessLog: {sampleRatio: 1.5}\n", "accessLog.sampleRatio", "between 0.0 and 1.0", "1.5");
    assertConfigError("service: a\naccessLog: {enabled: yes please}\n", "accessLog.enabled", "true or false");
    assertConfigError("service: a\naccessLog: {enabeld: true}\n", "accessLog.enabeld", "unknown key", "enabled");
    assertConfigError("service: a\naccessLog: on\n", "accessLog", "mapping");
  }

  @Test
  void everyListenerHasBudgetsByDefaultAndEachKeyCanBeSet() {
    BudgetsConfig defaults = MeshConfig.defaults("a").budgets();
    assertThat(defaults.inbound().maxConcurrentStreams()).isEqualTo(100);
    assertThat(defaults.gateway().maxStreamBufferBytes()).isEqualTo(64 * 1024);
    assertThat(defaults.inbound().maxConnectionAge()).isEqualTo(Duration.ofMinutes(30));
    assertThat(defaults.outbound().maxConnectionAge()).isZero();
    assertThat(defaults.upstream().keepaliveInterval()).isEqualTo(Duration.ofSeconds(30));

    MeshConfig config = MeshConfigParser.parse("""
        service: a
        budgets:
          inbound: {maxConnections: 10, maxConcurrentStreams: 5, idleTimeout: 2s, keepaliveInterval: 0}
          upstream: {keepaliveInterval: 1s, keepaliveTimeout: 500ms}
        overload: {maxHeapPercent: 70, maxEventLoopLag: 200ms}
        """);
    assertThat(config.budgets().inbound()).isEqualTo(new ListenerBudgets(10, 5, ListenerBudgets.INBOUND.maxStreamBufferBytes(),
        ListenerBudgets.INBOUND.maxConnectionBufferBytes(), Duration.ofSeconds(10), Duration.ofSeconds(10),
        Duration.ofSeconds(2), Duration.ofMinutes(30), Duration.ZERO, Duration.ofSeconds(10)));
    assertThat(config.budgets().outbound()).isEqualTo(ListenerBudgets.MESH);
    assertThat(config.budgets().upstream()).isEqualTo(new UpstreamConnectionBudgets(Duration.ofSeconds(1), Duration.ofMillis(500)));
    assertThat(config.overload()).isEqualTo(new OverloadConfig(70, 80, Duration.ofMillis(200), Duration.ofMillis(250)));
    assertThat(MeshConfig.defaults("a").overload().maxEventLoopLag()).isZero();
    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(config))).isEqualTo(config);
  }

  @Test
  void budgetKeysAreValidated() {
    assertConfigError("service: a\nbudgets: {gateway: {maxConcurrentStreams: 0}}\n",
        "budgets.gateway.maxConcurrentStreams", "");
    assertConfigError("service: a\nbudgets: {inbound: {maxStreamBufferBytes: 1048576, maxConnectionBufferBytes: 1048576}}\n",
        "budgets.inbound.maxConnectionBufferBytes", "at least twice maxStreamBufferBytes");
    assertConfigError("service: a\nbudgets: {outbound: {keepaliveTimeout: 0}}\n", "budgets.outbound.keepaliveTimeout",
        "must be set when keepaliveInterval is");
    assertConfigError("service: a\nbudgets: {sidecar: {}}\n", "budgets.sidecar", "unknown key");
    assertConfigError("service: a\noverload: {maxHeapPercent: 101}\n", "overload.maxHeapPercent", "");
  }

  @Test
  void aListenersPrematureResetBudgetDefaultsAndIsWrittenOnlyWhenItDiffers() {
    assertThat(MeshConfig.defaults("a").budgets().gateway().prematureResets())
        .isEqualTo(new PrematureResetBudget(200, 50, Duration.ofMillis(100)));
    MeshConfig config = MeshConfigParser.parse(
        "service: a\nbudgets: {outbound: {prematureResets: {burst: 10, within: 20ms}}}\n");
    assertThat(config.budgets().outbound().prematureResets()).isEqualTo(new PrematureResetBudget(10, 50, Duration.ofMillis(20)));
    assertThat(config.budgets().inbound().prematureResets()).isEqualTo(PrematureResetBudget.DEFAULT);
    String written = MeshConfigWriter.toYaml(config);
    assertThat(written).containsOnlyOnce("prematureResets");
    assertThat(MeshConfigParser.parse(written)).isEqualTo(config);

    PrematureResetBudget budget = PrematureResetBudget.DEFAULT;
    assertThat(budget.exceededBy(200, 200)).as("within the burst").isFalse();
    assertThat(budget.exceededBy(201, 201)).as("over the burst, every stream reset").isTrue();
    assertThat(budget.exceededBy(201, 500)).as("over the burst but 40 % of the streams").isFalse();
    assertThat(new PrematureResetBudget(0, 100, Duration.ofMillis(100)).exceededBy(1000, 1000)).as("100 %: off").isFalse();

    assertConfigError("service: a\nbudgets: {inbound: {prematureResets: {percentOfStreams: 0}}}\n",
        "budgets.inbound.prematureResets.percentOfStreams", "");
    assertConfigError("service: a\nbudgets: {inbound: {prematureResets: {within: 0}}}\n",
        "budgets.inbound.prematureResets.within", "");
    assertConfigError("service: a\nbudgets: {inbound: {prematureResets: {max: 5}}}\n",
        "budgets.inbound.prematureResets.max", "unknown key");
  }

  @Test
  void forwardedForTrustIsACountOfHopsOrAListOfProxies() {
    assertThat(MeshConfigParser.parse("service: gw\ngateway: {}\n").gateway().clientRateLimit().forwardedFor())
        .isEqualTo(ForwardedForTrust.NONE);
    assertThat(MeshConfigParser.parse("service: gw\ngateway: {clientRateLimit: {trustedHops: 2}}\n").gateway()
        .clientRateLimit().forwardedFor()).isEqualTo(new ForwardedForTrust(2, List.of()));
    assertThat(MeshConfigParser.parse("service: gw\ngateway: {clientRateLimit: {trustForwardedFor: true}}\n").gateway()
        .clientRateLimit().forwardedFor()).isEqualTo(new ForwardedForTrust(1, List.of()));
    MeshConfig proxies = MeshConfigParser.parse(
        "service: gw\ngateway: {clientRateLimit: {trustedProxies: [10.0.0.0/8, \"2001:db8::/32\"]}}\n");
    assertThat(proxies.gateway().clientRateLimit().forwardedFor().trustedProxies()).containsExactly("10.0.0.0/8", "2001:db8::/32");
    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(proxies))).isEqualTo(proxies);
    assertConfigError("service: gw\ngateway: {clientRateLimit: {trustedProxies: [lb.example.com]}}\n",
        "gateway.clientRateLimit.trustedProxies", "not an IP address or CIDR block");
    assertConfigError("service: gw\ngateway: {clientRateLimit: {trustedProxies: [10.0.0.0/33]}}\n",
        "gateway.clientRateLimit.trustedProxies", "prefix length");
    assertConfigError("service: gw\ngateway: {clientRateLimit: {trustedHops: 1, trustedProxies: [10.0.0.0/8]}}\n",
        "gateway.clientRateLimit.trustedHops", "not both");
  }

  private static void assertConfigError(String yaml, String key, String... fragments) {
    assertThatThrownBy(() -> MeshConfigParser.parse(yaml))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo(key))
        .hasMessageContainingAll(fragments);
  }
}
