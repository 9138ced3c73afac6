package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.taskmesh.operator.schema.CrdListTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The generated (and committed) CRDs give every list a type, map lists their keys, and keys are required. */
class CrdListTypesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode schema(String file) throws IOException {
    return YAML.readTree(Files.readString(Path.of("target", "classes", "META-INF", "fabric8", file)))
        .at("/spec/versions/0/schema/openAPIV3Schema");
  }

  @Test
  void theTaskServiceListsAreKeyedAsKubernetesKeysItsOwn() throws IOException {
    JsonNode spec = schema("taskservices.taskmesh.io-v1.yml").at("/properties/spec/properties");
    for (String list : List.of("env", "imagePullSecrets")) {
      assertThat(spec.at("/" + list + "/x-kubernetes-list-type").asText()).as(list).isEqualTo("map");
      assertThat(spec.at("/" + list + "/x-kubernetes-list-map-keys")).extracting(JsonNode::asText).containsExactly("name");
      assertThat(spec.at("/" + list + "/items/required")).extracting(JsonNode::asText).contains("name");
    }
    assertThat(spec.at("/resources/properties/claims/x-kubernetes-list-map-keys")).extracting(JsonNode::asText)
        .containsExactly("name");
    assertThat(spec.at("/mesh/properties/retries/properties/retryOn/x-kubernetes-list-type").asText()).isEqualTo("set");
    assertThat(spec.at("/mesh/properties/tracing/properties/propagators/x-kubernetes-list-type").asText())
        .isEqualTo("atomic");
    JsonNode conditions = schema("taskservices.taskmesh.io-v1.yml").at("/properties/status/properties/conditions");
    assertThat(conditions.at("/x-kubernetes-list-map-keys")).extracting(JsonNode::asText).containsExactly("type");
  }

  @ParameterizedTest
  @ValueSource(strings = {"taskservices.taskmesh.io-v1.yml", "authorizationpolicies.taskmesh.io-v1.yml"})
  void everyListHasAType(String file) throws IOException {
    List<String> untyped = new ArrayList<>();
    collectUntyped(schema(file), "", untyped);
    assertThat(untyped).isEmpty();
  }

  @Test
  void aListTheBuildStepDoesNotKnowFailsTheBuildNamingIt() throws IOException {
    JsonNode crd = YAML.readTree("""
        spec:
          versions:
            - schema:
                openAPIV3Schema:
                  properties:
                    spec:
                      properties:
                        ports: {type: array, items: {type: integer}}
        """);

    assertThatThrownBy(() -> CrdListTypes.withListTypes(crd, Map.of(), "test.yml"))
        .hasMessageContaining("lists without a type [spec.ports]");
    assertThatThrownBy(() -> CrdListTypes.withListTypes(crd, Map.of("spec.ports", new CrdListTypes.ListType("set",
        List.of()), "spec.gone", new CrdListTypes.ListType("set", List.of())), "test.yml"))
        .hasMessageContaining("list types for no list [spec.gone]");
  }

  private static void collectUntyped(JsonNode schema, String path, List<String> untyped) {
    if ("array".equals(schema.path("type").asText()) && !schema.has("x-kubernetes-list-type")) {
      untyped.add(path);
    }
    if (schema.has("items")) {
      collectUntyped(schema.get("items"), path + "[]", untyped);
    }
    schema.path("properties").fields().forEachRemaining(p -> collectUntyped(p.getValue(), path + "." + p.getKey(), untyped));
    if (schema.path("additionalProperties").isObject()) {
      collectUntyped(schema.get("additionalProperties"), path + ".*", untyped);
    }
  }
}
