package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The OpenAPI v3 documents ({@code /openapi/v3} and one per group-version) as far as clients read them. Every
 * served type gets its paths, whose writes take the {@code fieldValidation} query parameter, marked with
 * {@code x-kubernetes-group-version-kind}: that is how {@code kubectl} learns that the server validates fields
 * itself (it then sends {@code fieldValidation=Strict} instead of validating on its side; this API server
 * checks fields against the schemas of custom resources, while built-in objects keep any field they are sent,
 * as the mock stores them). A CRD's type also gets
 * its structural schema as a component, for {@code kubectl explain}. Built-in types get paths but no schema,
 * so {@code kubectl apply} computes their strategic merge patches from its compiled-in types, as it does when a
 * schema is missing. {@code /openapi/v2} is not served (kubectl falls back to it only when v3 is absent).
 */
final class OpenApi {
  private static final String ROOT = "/openapi/v3";

  private final Discovery discovery;
  private final ObjectStore store;

  OpenApi(Discovery discovery, ObjectStore store) {
    this.discovery = discovery;
    this.store = store;
  }

  /** The document at {@code path}, if it is one of the OpenAPI v3 documents; 404 for any other OpenAPI path. */
  Optional<MockResponse> answer(String path) {
    if (!path.startsWith("/openapi/")) {
      return Optional.empty();
    }
    ObjectNode document = path.equals(ROOT) ? root()
        : path.startsWith(ROOT + "/") ? groupVersion(path.substring(ROOT.length() + 1)) : null;
    if (document == null) {
      return Optional.of(new ApiException(404, "NotFound", "the server could not find the requested resource")
          .toResponse());
    }
    return Optional.of(new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
        .setBody(document.toString()));
  }

  private ObjectNode root() {
    ObjectNode root = ObjectStore.JSON.createObjectNode();
    ObjectNode paths = root.putObject("paths");
    for (String groupVersion : groupVersions().keySet()) {
      // the hash lets clients cache a document until the served types change
      String hash = Integer.toHexString(groupVersion(groupVersion).toString().hashCode());
      paths.putObject(groupVersion).put("serverRelativeURL", ROOT + "/" + groupVersion + "?hash=" + hash);
    }
    return root;
  }

  /** {@code api/v1}, {@code apis/apps/v1}, ... → the types served there. */
  private Map<String, List<Discovery.ResourceType>> groupVersions() {
    Map<String, List<Discovery.ResourceType>> served = new LinkedHashMap<>();
    for (Discovery.ResourceType type : discovery.types()) {
      String key = type.group().isEmpty() ? "api/" + type.version() : "apis/" + type.group() + "/" + type.version();
      served.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(type);
    }
    return served;
  }

  private ObjectNode groupVersion(String groupVersion) {
    List<Discovery.ResourceType> types = groupVersions().get(groupVersion);
    if (types == null) {
      return null;
    }
    ObjectNode document = ObjectStore.JSON.createObjectNode().put("openapi", "3.0.0");
    document.putObject("info").put("title", "Kubernetes").put("version", "v1.31.0");
    ObjectNode paths = document.putObject("paths");
    ObjectNode schemas = document.putObject("components").putObject("schemas");
    for (Discovery.ResourceType type : types) {
      String base = "/" + groupVersion + (type.namespaced() ? "/namespaces/{namespace}/" : "/") + type.plural();
      ObjectNode collection = paths.putObject(base);
      collection.set("get", operation(type, "list", false));
      collection.set("post", operation(type, "create", true));
      ObjectNode item = paths.putObject(base + "/{name}");
      item.set("get", operation(type, "read", false));
      item.set("put", operation(type, "replace", true));
      item.set("patch", operation(type, "patch", true));
      item.set("delete", operation(type, "delete", false));
      crdSchema(type).ifPresent(schema -> schemas.set(schemaName(type), schema));
    }
    return document;
  }

  private static ObjectNode operation(Discovery.ResourceType type, String action, boolean write) {
    ObjectNode operation = ObjectStore.JSON.createObjectNode()
        .put("operationId", action + type.kind());
    ArrayNode parameters = operation.putArray("parameters");
    if (write) {
      parameters.addObject().put("name", "fieldValidation").put("in", "query")
          .put("description", "Ignore, Warn or Strict: what to do with unknown or duplicate fields")
          .putObject("schema").put("type", "string");
      parameters.addObject().put("name", "fieldManager").put("in", "query").putObject("schema").put("type", "string");
      parameters.addObject().put("name", "dryRun").put("in", "query").putObject("schema").put("type", "string");
    }
    operation.putObject("responses").putObject("200").put("description", "OK");
    operation.set("x-kubernetes-group-version-kind", gvk(type));
    operation.put("x-kubernetes-action", action.equals("read") ? "get" : action.equals("replace") ? "put" : action);
    return operation;
  }

  private static ObjectNode gvk(Discovery.ResourceType type) {
    return ObjectStore.JSON.createObjectNode().put("group", type.group()).put("version", type.version())
        .put("kind", type.kind());
  }

  /** The stored CRD's schema of {@code type}'s version, with its kind attached as the API server does. */
  private Optional<JsonNode> crdSchema(Discovery.ResourceType type) {
    for (ObjectNode crd : store.list(CustomResourceSchemas.CRDS)) {
      if (!crd.at("/spec/group").asText().equals(type.group())
          || !crd.at("/spec/names/plural").asText().equals(type.plural())) {
        continue;
      }
      for (JsonNode version : crd.at("/spec/versions")) {
        JsonNode schema = version.at("/schema/openAPIV3Schema");
        if (version.path("name").asText().equals(type.version()) && schema.isObject()) {
          ObjectNode copy = ((ObjectNode) schema).deepCopy();
          copy.putArray("x-kubernetes-group-version-kind").add(gvk(type));
          return Optional.of(copy);
        }
      }
    }
    return Optional.empty();
  }

  /** As the API server names a CRD's schema: the group reversed, then version and kind. */
  private static String schemaName(Discovery.ResourceType type) {
    List<String> parts = new java.util.ArrayList<>(List.of(type.group().split("\\.")));
    java.util.Collections.reverse(parts);
    return String.join(".", parts) + "." + type.version() + "." + type.kind();
  }
}
