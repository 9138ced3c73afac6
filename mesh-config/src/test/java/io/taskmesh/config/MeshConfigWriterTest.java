package io.taskmesh.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MeshConfigWriterTest {

  private static final String CONFIG = """
      service: task-service
      inbound: {rateLimit: {requestsPerSecond: 50, burst: 10}}
      outbound:
        discovery: {static: {billing: ["127.0.0.1:1", "127.0.0.1:2"]}}
        upstreams: {billing: {timeout: 1500ms}}
      tracing: {exporter: zipkin, samplingRatio: 0.5}
      gateway:
        routes: [{pathPrefix: /api, host: example.com, service: billing}]
        tls: {certFile: /etc/taskmesh/tls/tls.crt, keyFile: /etc/taskmesh/tls/tls.key}
      """;

  @Test
  void writingThenParsingGivesTheSameConfig() {
    MeshConfig config = MeshConfigParser.parse(CONFIG);

    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(config))).isEqualTo(config);
    MeshConfig defaults = MeshConfig.defaults("plain");
    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(defaults))).isEqualTo(defaults);
  }

  @Test
  void routesAreWrittenOnlyWhenThereAreSomeAndReadBackTheSame() {
    MeshConfig routed = MeshConfigParser.parse(CONFIG.replace("upstreams: {billing: {timeout: 1500ms}}", """
        upstreams: {billing: {timeout: 1500ms}}
          routes:
            billing:
              rules:
                - matches: [{method: {method: Refund}, headers: [{name: x-canary, value: "yes"}]}]
                  backends: [{service: billing-v2}]
                  requestHeaders: {add: [{name: x-route, value: canary}]}
                  timeout: 750ms
                - backends: [{service: billing-v1, weight: 9}, {service: billing-v2, weight: 1}]
        """.stripTrailing()));

    assertThat(routed.outbound().routes()).containsKey("billing");
    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(routed))).isEqualTo(routed);
    assertThat(MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG))).doesNotContain("routes:\n    billing");
  }

  @Test
  void idempotentMethodsAreWrittenOnlyWhenListedSoOlderConfigsKeepTheirHash() {
    MeshConfig listed = MeshConfigParser.parse(CONFIG.replace("{billing: {timeout: 1500ms}}",
        "{billing: {timeout: 1500ms, retries: {idempotent: [/billing.Billing/Refund]}}}"));

    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(listed))).isEqualTo(listed);
    assertThat(MeshConfigWriter.toYaml(listed)).contains("/billing.Billing/Refund");
    assertThat(MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG))).doesNotContain("idempotent");
  }

  @Test
  void theHashDependsOnContentNotOnHowTheFileWasWritten() {
    MeshConfig compact = MeshConfigParser.parse(CONFIG);
    MeshConfig spelledOut = MeshConfigParser.parse(MeshConfigWriter.toYaml(compact));
    MeshConfig changed = MeshConfigParser.parse(CONFIG.replace("1500ms", "2s"));

    assertThat(MeshConfigWriter.hash(spelledOut)).isEqualTo(MeshConfigWriter.hash(compact)).hasSize(16);
    assertThat(MeshConfigWriter.hash(changed)).isNotEqualTo(MeshConfigWriter.hash(compact));
  }

  @Test
  void theAccessLogIsWrittenOnlyWhenItDiffersFromTheDefaultSoOlderConfigsKeepTheirHash() {
    MeshConfig enabled = MeshConfigParser.parse(CONFIG + "accessLog: {enabled: true, sampleRatio: 0.25}\n");
    MeshConfig spelledDefault = MeshConfigParser.parse(CONFIG + "accessLog: {enabled: false}\n");

    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(enabled))).isEqualTo(enabled);
    assertThat(MeshConfigWriter.toYaml(enabled)).contains("accessLog:").contains("sampleRatio: 0.25");
    assertThat(MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG))).doesNotContain("accessLog");
    assertThat(MeshConfigWriter.hash(spelledDefault)).isEqualTo(MeshConfigWriter.hash(MeshConfigParser.parse(CONFIG)));
    assertThat(MeshConfigWriter.hash(enabled)).isNotEqualTo(MeshConfigWriter.hash(MeshConfigParser.parse(CONFIG)));
  }

  @Test
  void budgetsAndOverloadAreWrittenOnlyWhenTheyDifferFromTheDefaultSoOlderConfigsKeepTheirHash() {
    MeshConfig tuned = MeshConfigParser.parse(CONFIG + "budgets: {gateway: {maxConnections: 5}}\noverload: {maxHeapPercent: 50}\n");

    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(tuned))).isEqualTo(tuned);
    assertThat(MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG))).doesNotContain("budgets").doesNotContain("overload");
    assertThat(MeshConfigWriter.hash(MeshConfigParser.parse(CONFIG + "overload: {maxHeapPercent: 90}\n")))
        .isEqualTo(MeshConfigWriter.hash(MeshConfigParser.parse(CONFIG)));
  }

  @Test
  void gatewayClientAuthAndServerCertificatesAreWrittenOnlyWhenSetSoOlderConfigsKeepTheirHash() {
    MeshConfig withClientAuth = MeshConfigParser.parse(CONFIG.replace("keyFile: /etc/taskmesh/tls/tls.key}",
        "keyFile: /etc/taskmesh/tls/tls.key, clientAuth: {mode: optional, caFile: /etc/taskmesh/client-ca/ca.crt}}"));

    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(withClientAuth))).isEqualTo(withClientAuth);
    assertThat(MeshConfigWriter.toYaml(withClientAuth)).contains("mode: optional");
    assertThat(MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG))).doesNotContain("clientAuth");
    MeshConfig withCertificates = MeshConfigParser.parse(CONFIG.replace("keyFile: /etc/taskmesh/tls/tls.key}",
        "keyFile: /etc/taskmesh/tls/tls.key, certificates: [{serverNames: [api.example.com, '*.example.org'],"
            + " certFile: /etc/taskmesh/api/tls.crt, keyFile: /etc/taskmesh/api/tls.key}]}"));
    assertThat(MeshConfigParser.parse(MeshConfigWriter.toYaml(withCertificates))).isEqualTo(withCertificates);
    assertThat(MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG))).doesNotContain("certificates");
    assertThat(MeshConfigWriter.hash(MeshConfigParser.parse(CONFIG))).as("the hash before clientAuth existed")
        .isEqualTo("42f9c65fb6b6d71a");
  }

  @Test
  void theCanonicalFormSpellsOutDurationsAsWritten() {
    String yaml = MeshConfigWriter.toYaml(MeshConfigParser.parse(CONFIG));

    assertThat(yaml).contains("timeout: 1500ms").contains("timeout: 5s").contains("waitInOpen: 30s");
  }
}
