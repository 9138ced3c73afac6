package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.taskmesh.operator.schema.OpenApiSchemaValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What `kubectl apply` of an AuthorizationPolicy meets: the generated CRD's schema and CEL rules. */
class AuthorizationPolicyCrdTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode schema() throws IOException {
    return YAML.readTree(Files.readString(Path.of("..", "crds", "authorizationpolicies.taskmesh.io-v1.yml")))
        .at("/spec/versions/0/schema/openAPIV3Schema");
  }

  private static List<String> validate(String specYaml) throws IOException {
    return OpenApiSchemaValidator.validate(schema(), YAML.readTree("spec:\n" + specYaml.indent(2)));
  }

  @Test
  void theExampleAndAMinimalPolicyAreAccepted() throws IOException {
    ObjectNode example = (ObjectNode) YAML.readTree(Files.readString(Path.of("..", "examples",
        "authorizationpolicy.yaml")));
    assertThat(OpenApiSchemaValidator.validate(schema(), example.without(List.of("apiVersion", "kind", "metadata"))))
        .isEmpty();
    assertThat(validate("targetRef: {name: tasks}")).as("no rules: every call gets the default, Deny").isEmpty();
    assertThat(validate("{targetRef: {kind: Service, name: tasks}, defaultAction: Allow, rules: [{action: Deny, "
        + "from: [{serviceAccount: intern}], to: [{service: taskservice.TaskService, methods: [DeleteTask]}]}]}"))
        .isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "rules: []                                                   | spec.targetRef: required",
      "targetRef: {kind: Deployment, name: tasks}                  | spec.targetRef.kind: 'Deployment' is not one of",
      "targetRef: {name: Tasks_1}                                  | spec.targetRef.name: 'Tasks_1' does not match",
      "{targetRef: {name: t}, defaultAction: Maybe}                | spec.defaultAction: 'Maybe' is not one of",
      "{targetRef: {name: t}, rules: [{action: Audit}]}            | spec.rules[0].action: 'Audit' is not one of",
      "{targetRef: {name: t}, rules: [{from: [{}]}]}               | spec.rules[0].from[0]: a caller names an identity",
      "{targetRef: {name: t}, rules: [{from: [{identity: 'spiffe://td/ns/a/sa/b', namespace: a}]}]} | spec.rules[0].from[0]: identity is a whole SPIFFE ID",
      "{targetRef: {name: t}, rules: [{from: [{identity: 'https://td/ns/a'}]}]}                    | spec.rules[0].from[0].identity: 'https://td/ns/a' does not match",
      "{targetRef: {name: t}, rules: [{to: [{methods: [GetTask]}]}]}                               | spec.rules[0].to[0].service: required",
      "{targetRef: {name: t}, rules: [{to: [{service: 'taskservice/TaskService'}]}]}               | spec.rules[0].to[0].service: 'taskservice/TaskService' does not match",
      "{targetRef: {name: t}, rules: [{from: [{namespace: web, team: a}]}]}                        | spec.rules[0].from[0].team: unknown field"})
  void aBadPolicyIsRefusedNamingTheField(String spec, String error) throws IOException {
    assertThat(validate(spec)).anySatisfy(e -> assertThat(e).startsWith(error.strip()));
  }
}
