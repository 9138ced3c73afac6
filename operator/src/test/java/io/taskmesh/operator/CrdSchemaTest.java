package io.taskmesh.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.taskmesh.operator.schema.OpenApiSchemaValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** What `kubectl apply` of a TaskService meets: the generated CRD's schema refuses bad specs, naming the field. */
class CrdSchemaTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode schema() throws IOException {
    JsonNode crd = YAML.readTree(Files.readString(Path.of("..", "crds", "taskservices.taskmesh.io-v1.yml")));
    return crd.at("/spec/versions/0/schema/openAPIV3Schema");
  }

  private static List<String> validate(String specYaml) throws IOException {
    JsonNode resource = YAML.readTree("apiVersion: taskmesh.io/v1alpha1\nkind: TaskService\n"
        + "metadata: {name: t}\nspec:\n" + specYaml.indent(2));
    return OpenApiSchemaValidator.validate(schema(), ((com.fasterxml.jackson.databind.node.ObjectNode) resource)
        .without(List.of("apiVersion", "kind", "metadata")));
  }

  @Test
  void theExampleAndAMinimalSpecAreAccepted() throws IOException {
    JsonNode example = YAML.readTree(Files.readString(Path.of("..", "examples", "taskservice.yaml")));
    assertThat(OpenApiSchemaValidator.validate(schema(),
        ((com.fasterxml.jackson.databind.node.ObjectNode) example).without(List.of("apiVersion", "kind", "metadata"))))
        .isEmpty();
    assertThat(validate("replicas: 1")).isEmpty();
    assertThat(validate("{replicas: 3, database: {postgresUrlSecret: {name: db, key: url}}}")).isEmpty();
    assertThat(validate("database: {postgresUrlSecret: {name: db, key: url}}")).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "replicas: -1                                         | spec.replicas: must be >= 0",
      "replicas: 1000                                       | spec.replicas: must be <= 100",
      "replicas: three                                      | spec.replicas: must be an integer",
      "port: 0                                              | spec.port: must be >= 1",
      "port: 70000                                          | spec.port: must be <= 65535",
      "replica: 2                                           | spec.replica: unknown field",
      "mesh: {timeout: 5 seconds}                           | spec.mesh.timeout: '5 seconds' does not match",
      "mesh: {loadBalancer: RANDOM}                         | spec.mesh.loadBalancer: 'RANDOM' does not match",
      "mesh: {retries: {attempts: 42}}                      | spec.mesh.retries.attempts: must be <= 10",
      "mesh: {tracing: {samplingRatio: 2}}                  | spec.mesh.tracing.samplingRatio: must be <= 1",
      "mesh: {tracing: {exporter: jaeger}}                  | spec.mesh.tracing.exporter: 'jaeger' does not match",
      "mesh: {circuitBreaker: {failureRateThreshold: 0}}    | spec.mesh.circuitBreaker.failureRateThreshold: must be >= 1",
      "mesh: {upstreams: {billing: {timeout: soon}}}        | spec.mesh.upstreams.billing.timeout: 'soon' does not match",
      "database: {postgresUrlSecret: {name: db, key: 7}}    | spec.database.postgresUrlSecret.key: must be a string",
      "replicas: 2                                          | spec.database: spec.replicas > 1 needs spec.database.postgresUrlSecret",
      "{replicas: 3, database: {}}                          | spec.database: spec.replicas > 1 needs spec.database.postgresUrlSecret",
      "database: {postgresUrlSecret: {key: url}}            | spec.database.postgresUrlSecret: spec.database.postgresUrlSecret.name must name",
      "database: {postgresUrlSecret: {name: '', key: url}}  | spec.database.postgresUrlSecret: spec.database.postgresUrlSecret.name must name"})
  void aBadSpecIsRefusedNamingTheField(String spec, String error) throws IOException {
    assertThat(validate(spec)).anySatisfy(e -> assertThat(e).startsWith(error.strip()));
  }
}
