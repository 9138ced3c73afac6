package io.taskmesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Configs read and write as they did when Jackson's YAML format did it: the same values from the same text, and the
 * same text (so the same config hash, which sidecars and the operator of different versions compare) from the same
 * config. Jackson, as the proxy used it before, is the reference here.
 */
class YamlTreesTest {
  private static final ObjectMapper JACKSON_READER = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JACKSON_WRITER = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  /** Strings a YAML writer must quote, or must not: words YAML 1.1 reads as booleans, indicators, numbers. */
  private static final List<String> TRICKY = List.of("yes", "No", "ON", "off", "y", "n", "true", "False", "null", "~",
      "~x", "", " ", "a: b", "a:b", "a:", "#x", "a #b", "a#b", "[x]", "x,y", "{x}", "1", "1.5", "-1", "+1", ".5",
      "0x1F", "010", "1:30", "2001-12-14", "- x", "? x", "!x", "&x", "*x", "|x", ">x", "'x'", "\"x\"", "@x", "`x",
      "%x", "x\ny", "tab\there", "é ü", "x ", " x", "/api/v1", "http://host:80/path", "127.0.0.1:15012");

  @Test
  void everySectionOfAConfigIsWrittenAsJacksonWroteIt() throws Exception {
    String full = """
        service: gw
        namespace: shop
        inbound: {port: 15006, appPort: 8080, rateLimit: {requestsPerSecond: 2.5, burst: 10}}
        outbound:
          discovery: {static: {billing: ["127.0.0.1:1", "127.0.0.1:2"], orders.sales: ["10.0.0.1:50051"]}}
          upstreams: {billing: {timeout: 1500ms, retries: {idempotent: [/billing.Billing/Refund]}}}
          routes:
            billing:
              rules:
                - matches: [{method: {service: billing.Billing, method: Refund}, headers: [{name: x-canary, value: "yes"}]}]
                  backends: [{service: billing-v2}]
                  requestHeaders: {set: [{name: x-a, value: "on"}], add: [{name: x-route, value: "a: b"}], remove: [x-b]}
                  timeout: 750ms
                - backends: [{service: billing-v1, weight: 9}, {service: billing-v2, weight: 1}]
        tracing: {exporter: zipkin, endpoint: "http://zipkin:9411/api/v2/spans", samplingRatio: 0.125}
        gateway:
          routes: [{pathPrefix: /api, host: example.com, service: billing}]
          tls: {certFile: /etc/taskmesh/tls/tls.crt, keyFile: /etc/taskmesh/tls/tls.key}
        accessLog: {enabled: true, sampleRatio: 0.25}
        budgets: {gateway: {maxConnections: 5}}
        overload: {maxHeapPercent: 50}
        identity: {mode: strict, issuer: "taskmesh-operator.taskmesh-system.svc:15012"}
        """;

    for (String config : List.of(full, "service: plain\n")) {
      Map<String, Object> tree = MeshConfigWriter.toTree(MeshConfigParser.parse(config));
      assertThat(YamlTrees.write(tree)).isEqualTo(JACKSON_WRITER.writeValueAsString(tree));
    }
  }

  @Test
  void stringsAndKeysAreQuotedExactlyWhereJacksonQuotedThem() throws Exception {
    Map<String, Object> tree = new LinkedHashMap<>();
    for (int i = 0; i < TRICKY.size(); i++) {
      tree.put("value" + i, TRICKY.get(i));
      tree.put(TRICKY.get(i).isEmpty() ? "empty" : TRICKY.get(i), i);
    }
    tree.put("numbers", List.of(0, -7, 12_345_678_901L, 0.5, 1e-7, true, false));
    tree.put("nested", List.of(Map.of("a", List.of()), Map.of(), List.of(List.of("x"))));
    tree.put("nothing", null);

    assertThat(YamlTrees.write(tree)).isEqualTo(JACKSON_WRITER.writeValueAsString(tree));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "a: yes\nb: No\nc: ON\nd: off\ne: y\nf: n\ng: True\nh: \"yes\"\n",
      "a: 42\nb: -7\nc: +5\nd: 1_000\ne: 0x1F\nf: -0x1F\ng: 0b101\nh: 010\ni: 0\nj: 12345678901\nk: 123456789012345678901234\n",
      "a: 1.5\nb: .5\nc: -2.25\nd: 1_000.5\ne: 1e3\nf: 6.02e+23\n",
      "a: 1:30\nb: 2001-12-14\nc: 2001-12-14t21:59:43.10-05:00\nd: '5'\ne: \"0x1F\"\n",
      "a:\nb: ~\nc: null\nd: ''\ne: [x, ~, '', 3]\nf: {}\ng: []\n",
      "{\"service\": \"a\", \"inbound\": {\"port\": 15006, \"rateLimit\": {\"requestsPerSecond\": 0.5}}, \"list\": [1, \"2\", true]}",
      "service: a\nservice: b\nother: {x: 1}\n",
      "1: one\n~: nothing\ntrue: yes\n",
      "text: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
  })
  void scalarsAreTypedAsJacksonTypedThem(String text) throws Exception {
    assertThat(YamlTrees.read(text)).isEqualTo(MeshConfigJackson.plain(JACKSON_READER.readTree(text)));
  }

  @Test
  void aSyntaxErrorNamesWhereItIs() {
    assertThatThrownBy(() -> YamlTrees.read("service: a\ninbound: {port: 1\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not valid YAML or JSON")
        .hasMessageContaining("line 3");
  }

  @Test
  void anEmptyDocumentIsNoTree() {
    assertThat(YamlTrees.read("")).isNull();
    assertThat(YamlTrees.read("# only a comment\n")).isNull();
  }
}
