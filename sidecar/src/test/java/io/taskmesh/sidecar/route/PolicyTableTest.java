package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PolicyTableTest {
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
    PolicyTable table = PolicyTable.of(CONFIG);

    assertThat(table.outbound("billing").timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(table.outbound("billing").retries().attempts()).isEqualTo(4);
    assertThat(table.outbound("anything-else").timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(table.outbound("billing").rateLimit()).as("the outbound side has no pod rate limit").isNull();
  }

  @Test
  void theInboundPolicyIsThePodsLimitsWithoutRetriesOrRouteTimeout() {
    CallPolicy inbound = PolicyTable.of(CONFIG).inbound();

    assertThat(inbound.maxConcurrentRequests()).isEqualTo(7);
    assertThat(inbound.rateLimit().requestsPerSecond()).isEqualTo(5);
    assertThat(inbound.retries().attempts()).isEqualTo(1);
    assertThat(inbound.timeout()).isZero();
  }

  @Test
  void aPolicyResolvedBeforeAReloadStaysWholeAndTheNextRequestGetsTheNewTable() {
    ActivePolicies policies = new ActivePolicies(PolicyTable.of(CONFIG));
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
        """)));

    assertThat(before.timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(before.retries().attempts()).isEqualTo(4);
    assertThat(outbound.forService("billing").timeout()).isEqualTo(Duration.ofSeconds(9));
    assertThat(outbound.forService("billing").retries().attempts()).isEqualTo(1);
  }
}
