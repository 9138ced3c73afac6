package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Where the CEL rules (x-kubernetes-validations) of the committed CRD sit: each on the node it belongs to,
 * with a fieldPath that resolves in the schema (an API server refuses a CRD whose fieldPath does not), and
 * no rule without a test. What each rule accepts and refuses is evaluated with cel-java in CrdSchemaTest;
 * the operator also reports the replicas/database combination as Degraded (ReconcileOnMockServerTest) for
 * objects stored before the rule existed.
 */
class CrdValidationRulesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode spec() throws IOException {
    return YAML.readTree(Files.readString(Path.of("..", "crds", "taskservices.taskmesh.io-v1.yml")))
        .at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
  }

  @Test
  void moreThanOneReplicaNeedsAPostgresSecret() throws IOException {
    JsonNode rule = onlyRule(spec());

    assertThat(rule.path("rule").asText()).isEqualTo(
        "!has(self.replicas) || self.replicas <= 1 || (has(self.database) && has(self.database.postgresUrlSecret))");
    assertThat(rule.path("message").asText()).contains("spec.replicas > 1 needs spec.database.postgresUrlSecret");
    assertThat(resolves(spec(), rule.path("fieldPath").asText())).isTrue();
  }

  @Test
  void aPostgresSecretReferenceMustNameTheSecret() throws IOException {
    JsonNode database = spec().at("/properties/database");
    JsonNode rule = onlyRule(database);

    assertThat(rule.path("rule").asText())
        .isEqualTo("!has(self.postgresUrlSecret) || (has(self.postgresUrlSecret.name) && self.postgresUrlSecret.name != '')");
    assertThat(rule.path("message").asText()).contains("spec.database.postgresUrlSecret.name");
    assertThat(resolves(database, rule.path("fieldPath").asText())).isTrue();
  }

  @Test
  void noOtherRulesExistUntested() throws IOException {
    List<String> paths = new ArrayList<>();
    collect(spec(), "spec", paths);

    // each is exercised in CrdSchemaTest: replicas/database, postgresUrlSecret.name, perTryTimeout <= timeout
    // (mesh and each upstream), reserved env names, env from a Secret
    assertThat(paths).containsExactlyInAnyOrder("spec", "spec.database", "spec.mesh", "spec.mesh.upstreams.*",
        "spec.env[].name", "spec.env[].valueFrom");
  }

  @Test
  void perTryTimeoutRulesPointAtThePerTryTimeout() throws IOException {
    for (JsonNode node : List.of(spec().at("/properties/mesh"), spec().at("/properties/mesh/properties/upstreams/additionalProperties"))) {
      JsonNode rule = onlyRule(node);
      assertThat(rule.path("rule").asText()).contains("duration(self.retries.perTryTimeout) <= duration(self.timeout)");
      assertThat(resolves(node, rule.path("fieldPath").asText())).isTrue();
      assertThat(node.at("/properties/timeout/maxLength").asInt()).as("CEL cost is bounded by maxLength").isEqualTo(11);
    }
  }

  private static JsonNode onlyRule(JsonNode schema) {
    JsonNode rules = schema.path("x-kubernetes-validations");
    assertThat(rules.isArray()).as("x-kubernetes-validations on %s", schema).isTrue();
    assertThat(rules).hasSize(1);
    return rules.get(0);
  }

  /** A fieldPath such as {@code .database.postgresUrlSecret}, resolved against the properties of {@code schema}. */
  private static boolean resolves(JsonNode schema, String fieldPath) {
    JsonNode node = schema;
    for (String field : fieldPath.substring(1).split("\\.")) {
      node = node.path("properties").path(field);
      if (node.isMissingNode()) {
        return false;
      }
    }
    return true;
  }

  private static void collect(JsonNode schema, String path, List<String> found) {
    if (schema.has("x-kubernetes-validations")) {
      found.add(path);
    }
    schema.path("properties").fields().forEachRemaining(entry -> collect(entry.getValue(), path + "." + entry.getKey(), found));
    if (schema.has("items")) {
      collect(schema.get("items"), path + "[]", found);
    }
    if (schema.has("additionalProperties")) {
      collect(schema.get("additionalProperties"), path + ".*", found);
    }
  }
}
