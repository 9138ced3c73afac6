package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.HeaderModifier;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteRule;
import java.util.List;
import java.util.Map;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicyTableTest {
  private static final ClusterResolver NO_CLUSTERS = (service, then) -> then.accept(Optional.empty());
  private static final MeshConfig CONFIG = MeshConfigParser.parse("""
      service: caller
      inbound: {port: 0, appPort: 1, maxConcurrentRequests: 7, rateLimit: {requestsPerSecond: 5, burst: 2}}
      outbound:
        port: 0
        defaults: {timeout: 2s}
        upstreams:
          billing: {timeout: 300ms, retries: {attempts: 4}}
      admin: {port: 0}
      """);

  @Test
  void anUpstreamNamedInTheConfigGetsItsOwnPolicyAndEveryOtherTheDefaults() {
    PolicyTable table = PolicyTable.of(CONFIG, NO_CLUSTERS);

    assertThat(table.outbound("billing").timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(table.outbound("billing").retries().attempts()).isEqualTo(4);
    assertThat(table.outbound("anything-else").timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(table.outbound("billing").rateLimit()).as("the outbound side has no pod rate limit").isNull();
  }

  @Test
  void aServiceWithRoutesGetsItsRulesEvenWithoutAPolicyOfItsOwn() {
    PolicyTable table = PolicyTable.of(MeshConfigParser.parse("""
        service: caller
        outbound:
          defaults: {timeout: 2s}
          routes:
            task-service: {rules: [{backends: [{service: task-service-v1}]}]}
        """), NO_CLUSTERS);

    assertThat(table.hasRoutes("task-service")).isTrue();
    assertThat(table.hasRoutes("billing")).isFalse();
    assertThat(table.outbound("task-service").timeout()).as("the defaults").isEqualTo(Duration.ofSeconds(2));
    assertThat(table.outbound("task-service").routes().match("/a.B/C", new DefaultHttp2Headers()).backends().all())
        .extracting(backend -> backend.service()).containsExactly("task-service-v1");
    assertThat(table.outbound("billing").routes()).isSameAs(RouteRules.NONE);
  }

  @Test
  void discoveredRoutesApplyToServicesTheConfigDoesNotRouteAndTheConfigsOwnWin() {
    MeshConfig routed = MeshConfigParser.parse("""
        service: caller
        outbound:
          routes:
            task-service: {rules: [{backends: [{service: task-service-v1}]}]}
        """);
    Map<String, List<RouteRule>> discovered = Map.of(
        "task-service", List.of(rule("task-service-v2")),
        "billing", List.of(rule("billing-canary")));

    PolicyTable table = PolicyTable.of(routed, discovered, NO_CLUSTERS);

    assertThat(backends(table, "task-service")).as("the config's own routes win").containsExactly("task-service-v1");
    assertThat(backends(table, "billing")).as("discovery's apply where the config has none")
        .containsExactly("billing-canary");
  }

  private static RouteRule rule(String backend) {
    return new RouteRule(List.of(), List.of(new RouteBackend(backend, 1)), HeaderModifier.NONE, null);
  }

  private static List<String> backends(PolicyTable table, String service) {
    return table.outbound(service).routes().match("/a.B/C", new DefaultHttp2Headers()).backends().all().stream()
        .map(backend -> backend.service()).toList();
  }

  @Test
  void theInboundPolicyIsThePodsLimitsWithoutRetriesOrRouteTimeout() {
    CallPolicy inbound = PolicyTable.of(CONFIG, NO_CLUSTERS).inbound();

    assertThat(inbound.maxConcurrentRequests()).isEqualTo(7);
    assertThat(inbound.rateLimit().requestsPerSecond()).isEqualTo(5);
    assertThat(inbound.retries().attempts()).isEqualTo(1);
    assertThat(inbound.timeout()).isZero();
  }

  @Test
  void aPolicyResolvedBeforeAReloadStaysWholeAndTheNextRequestGetsTheNewTable() {
    ActivePolicies policies = new ActivePolicies(PolicyTable.of(CONFIG, NO_CLUSTERS));
    ActivePolicies.Lookup outbound = policies.outbound();
    CallPolicy before = outbound.forService("billing");

    policies.use(PolicyTable.of(MeshConfigParser.parse("""
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          upstreams:
            billing: {timeout: 9s, retries: {attempts: 1}}
        admin: {port: 0}
        """), NO_CLUSTERS));

    assertThat(before.timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(before.retries().attempts()).isEqualTo(4);
    assertThat(outbound.forService("billing").timeout()).isEqualTo(Duration.ofSeconds(9));
    assertThat(outbound.forService("billing").retries().attempts()).isEqualTo(1);
  }
}
