package io.taskmesh.sidecar.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.RouteRule;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RouteRulesTest {
  private static final ClusterResolver NO_CLUSTERS = (service, then) -> then.accept(Optional.empty());
  private static final RouteRules RULES = rules("""
      - matches: [{method: {service: taskservice.TaskService, method: GetTask}, headers: [{name: x-api-version, value: v2}]}]
        backends: [{service: pinned}]
        requestHeaders: {set: [{name: x-routed, value: pinned}], add: [{name: x-hop, value: one}], remove: [x-debug]}
      - matches: [{method: {method: DeleteTask}}, {method: {service: billing.Billing}}]
        backends: [{service: either}]
      - backends: [{service: everyone}]
      """);

  @Test
  void theFirstRuleWhoseMatchFitsTakesTheRequest() {
    assertThat(backendOf("/taskservice.TaskService/GetTask", "x-api-version", "v2")).isEqualTo("pinned");
    assertThat(backendOf("/taskservice.TaskService/GetTask", "x-api-version", "v3")).as("another value").isEqualTo("everyone");
    assertThat(backendOf("/taskservice.TaskService/ListTasks", "x-api-version", "v2")).as("another method").isEqualTo("everyone");
    assertThat(backendOf("/taskservice.TaskService/DeleteTask", null, null)).as("method alone").isEqualTo("either");
    assertThat(backendOf("/billing.Billing/Charge", null, null)).as("service alone").isEqualTo("either");
    assertThat(backendOf("/billing.BillingAdmin/Charge", null, null)).as("not a service prefix").isEqualTo("everyone");
  }

  @Test
  void aServiceWhoseRulesTakeNothingFallsBackToNoRule() {
    RouteRules pinnedOnly = rules("""
        - matches: [{headers: [{name: x-api-version, value: v2}]}]
          backends: [{service: v2}]
        """);

    assertThat(pinnedOnly.match("/a.B/C", new DefaultHttp2Headers())).isNull();
  }

  @Test
  void theTakingRuleSetsAddsAndRemovesItsHeaders() {
    Http2Headers headers = request("/taskservice.TaskService/GetTask", "x-api-version", "v2")
        .add("x-hop", "zero").add("x-debug", "1").add("x-routed", "caller");

    RULES.match("/taskservice.TaskService/GetTask", headers).modify(headers);

    assertThat(headers.getAll("x-routed")).extracting(CharSequence::toString).containsExactly("pinned");
    assertThat(headers.getAll("x-hop")).extracting(CharSequence::toString).containsExactly("zero", "one");
    assertThat(headers.contains("x-debug")).isFalse();
  }

  private static String backendOf(String path, String header, String value) {
    RouteRules.Rule rule = RULES.match(path, request(path, header, value));
    return rule.backends().all().get(0).service();
  }

  private static Http2Headers request(String path, String header, String value) {
    Http2Headers headers = new DefaultHttp2Headers().method("POST").path(path);
    if (header != null) {
      headers.set(header, value);
    }
    return headers;
  }

  private static RouteRules rules(String rulesYaml) {
    List<RouteRule> rules = MeshConfigParser.parse("service: caller\noutbound:\n  routes:\n    svc:\n      rules:\n"
        + rulesYaml.indent(8)).outbound().routes().get("svc");
    return RouteRules.of(rules, NO_CLUSTERS);
  }
}
