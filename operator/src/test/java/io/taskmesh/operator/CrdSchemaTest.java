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
    assertThat(validate("mesh: {timeout: 2s, retries: {perTryTimeout: 1s, retryOn: [UNAVAILABLE, ABORTED]}}")).isEmpty();
    assertThat(validate("mesh: {timeout: '0', retries: {perTryTimeout: 5s}}")).as("0 is no deadline").isEmpty();
    assertThat(validate("env: [{name: LOG_LEVEL, value: debug}, {name: ZONE, valueFrom: {configMapKeyRef: {name: z, key: k}}}]"))
        .isEmpty();
    assertThat(validate("{sidecar: {upgradePolicy: Automatic, resources: {limits: {memory: 512Mi}}}, storage: {size: 5Gi}}"))
        .isEmpty();
  }

  @Test
  void aMegabyteImageStringIsRefused() throws IOException {
    assertThat(validate("image: " + "a".repeat(1024 * 1024)))
        .anySatisfy(e -> assertThat(e).startsWith("spec.image: may not be longer than 512"));
  }

  @Test
  void theScaleSubresourceReadsAndWritesTheReplicas() throws IOException {
    JsonNode scale = YAML.readTree(Files.readString(Path.of("..", "crds", "taskservices.taskmesh.io-v1.yml")))
        .at("/spec/versions/0/subresources/scale");
    assertThat(scale.path("specReplicasPath").asText()).isEqualTo(".spec.replicas");
    assertThat(scale.path("statusReplicasPath").asText()).isEqualTo(".status.replicas");
    assertThat(scale.path("labelSelectorPath").asText()).isEqualTo(".status.selector");
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
      "mesh: {loadBalancer: RANDOM}                         | spec.mesh.loadBalancer: 'RANDOM' is not one of",
      "mesh: {retries: {attempts: 42}}                      | spec.mesh.retries.attempts: must be <= 10",
      "mesh: {tracing: {samplingRatio: 2}}                  | spec.mesh.tracing.samplingRatio: must be <= 1",
      "mesh: {tracing: {exporter: jaeger}}                  | spec.mesh.tracing.exporter: 'jaeger' is not one of",
      "mesh: {retries: {retryOn: [UNAVAILABLE, NOPE]}}      | spec.mesh.retries.retryOn[1]: 'NOPE' is not one of",
      "mesh: {timeout: 1s, retries: {perTryTimeout: 2s}}    | spec.mesh.retries.perTryTimeout: retries.perTryTimeout must not exceed timeout",
      "mesh: {upstreams: {b: {timeout: 1s, retries: {perTryTimeout: 1500ms}}}} | spec.mesh.upstreams.b.retries.perTryTimeout: retries.perTryTimeout must not exceed",
      "mesh: {rateLimit: {requestsPerSecond: 1e12}}         | spec.mesh.rateLimit.requestsPerSecond: must be <= 100000",
      "mesh: {rateLimit: {burst: 2000000000}}               | spec.mesh.rateLimit.burst: must be <= 1000000",
      "mesh: {timeout: 0000000000001s}                      | spec.mesh.timeout: may not be longer than 11",
      "env: [{name: 1 BAD, value: x}]                       | spec.env[0].name: '1 BAD' does not match",
      "env: [{value: x}]                                    | spec.env[0].name: required",
      "env: [{name: TASKMESH_OUTBOUND, value: x}]           | spec.env[0].name: is set by the operator",
      "env: [{name: TASK_SERVICE_DATABASE_URL, value: x}]   | spec.env[0].name: is set by the operator",
      "env: [{name: T, valueFrom: {secretKeyRef: {name: s, key: k}}}] | spec.env[0].valueFrom: secretKeyRef is not allowed",
      "sidecar: {upgradePolicy: Sometimes}                  | spec.sidecar.upgradePolicy: 'Sometimes' is not one of",
      "storage: {size: lots}                                | spec.storage.size: 'lots' does not match",
      "imagePullSecrets: [{name: a}, {name: b}, {name: c}, {name: d}, {name: e}, {name: f}, {name: g}, {name: h}, {name: i}, {name: j}, {name: k}, {name: l}, {name: m}, {name: n}, {name: o}, {name: p}, {name: q}] | spec.imagePullSecrets: must have at most 16 items",
      "mesh: {circuitBreaker: {failureRateThreshold: 0}}    | spec.mesh.circuitBreaker.failureRateThreshold: must be >= 1",
      "mesh: {upstreams: {billing: {timeout: soon}}}        | spec.mesh.upstreams.billing.timeout: 'soon' does not match",
      "database: {postgresUrlSecret: {name: db, key: 7}}    | spec.database.postgresUrlSecret.key: must be a string",
      "replicas: 2                                          | spec.database: spec.replicas > 1 needs spec.database.postgresUrlSecret",
      "{replicas: 3, database: {}}                          | spec.database: spec.replicas > 1 needs spec.database.postgresUrlSecret",
      "database: {postgresUrlSecret: {key: url}}            | spec.database.postgresUrlSecret: spec.database.postgresUrlSecret.name must name",
      "database: {postgresUrlSecret: {name: '', key: url}}  | spec.database.postgresUrlSecret: spec.database.postgresUrlSecret.name must name",
      "env: [{name: A, value: x}, {name: A, value: y}]      | spec.env[1]: Duplicate value: {\"name\":\"A\"}",
      "imagePullSecrets: [{name: a}, {name: a}]             | spec.imagePullSecrets[1]: Duplicate value",
      "mesh: {retries: {retryOn: [UNAVAILABLE, UNAVAILABLE]}} | spec.mesh.retries.retryOn[1]: Duplicate value"})
  void aBadSpecIsRefusedNamingTheField(String spec, String error) throws IOException {
    assertThat(validate(spec)).anySatisfy(e -> assertThat(e).startsWith(error.strip()));
  }
}
