package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.taskmesh.operator.schema.CelRules;
import io.taskmesh.operator.schema.OpenApiSchemaValidator;
import io.taskmesh.operator.schema.SchemaPruning;
import java.util.List;
import java.util.Optional;

/**
 * What the API server does with a custom resource's body before it stores it: prunes the fields the CRD's
 * structural schema does not declare (refusing them instead when the client asked for
 * {@code fieldValidation=Strict}, as kubectl does by default, and warning about them otherwise), then checks
 * the rest against the schema and its {@code x-kubernetes-validations} CEL rules, refusing with 422 Invalid and
 * the field path of every violation.
 */
final class CustomResourceSchemas implements Admission {
  static final String CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

  private final ObjectStore store;

  CustomResourceSchemas(ObjectStore store) {
    this.store = store;
    // cel-java's first use loads and links some thousand classes (seconds on a busy machine); done on the API
    // server's event loop it would stall every request meanwhile, so it is done beside it now
    Thread warmUp = new Thread(() -> CelRules.holds("self == 1", IntNode.valueOf(1)), "cel-warm-up");
    warmUp.setDaemon(true);
    warmUp.start();
  }

  /** The stored CRD serving {@code group}/{@code resource}, if any. */
  Optional<ObjectNode> definition(String group, String resource) {
    return store.list(CRDS).stream()
        .filter(crd -> crd.at("/spec/group").asText().equals(group)
            && crd.at("/spec/names/plural").asText().equals(resource))
        .findFirst();
  }

  static Optional<JsonNode> version(ObjectNode crd, String version) {
    for (JsonNode served : crd.at("/spec/versions")) {
      if (served.path("name").asText().equals(version)) {
        return Optional.of(served);
      }
    }
    return Optional.empty();
  }

  @Override
  public ObjectNode admit(ApiRequest request, ObjectNode object, Optional<ObjectNode> old, Warnings warnings) {
    Optional<ObjectNode> crd = definition(request.group(), request.resource());
    if (crd.isEmpty()) {
      return object;
    }
    JsonNode schema = version(crd.get(), request.version()).map(v -> v.at("/schema/openAPIV3Schema"))
        .filter(JsonNode::isObject)
        .orElseThrow(() -> new ApiException(404, "NotFound", "the server could not find the requested resource"));
    String kind = crd.get().at("/spec/names/kind").asText() + "." + request.group();
    String name = object.at("/metadata/name").asText(request.name() == null ? "" : request.name());
    List<String> unknown = SchemaPruning.prune(schema, object);
    if (!unknown.isEmpty()) {
      if ("Strict".equals(request.query().get("fieldValidation"))) {
        throw new ApiException(400, "BadRequest", kind + " in version \"" + request.version()
            + "\" cannot be handled as a " + crd.get().at("/spec/names/kind").asText() + ": strict decoding error: "
            + String.join(", ", unknown.stream().map(field -> "unknown field \"" + field + "\"").toList()));
      }
      unknown.forEach(field -> warnings.add("unknown field \"" + field + "\""));
    }
    List<String> errors = OpenApiSchemaValidator.validate(schema, object.deepCopy().without(List.of("apiVersion", "kind", "metadata")));
    if (!errors.isEmpty()) {
      throw ApiException.invalid(kind, name, String.join(", ", errors));
    }
    return object;
  }
}
