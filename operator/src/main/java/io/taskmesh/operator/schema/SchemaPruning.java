package io.taskmesh.operator.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Drops the fields a structural schema does not declare, as the API server does before it stores a custom
 * resource (unless the schema says {@code x-kubernetes-preserve-unknown-fields}). apiVersion, kind and
 * metadata at the root are the API server's own and never pruned here.
 */
public final class SchemaPruning {
  private static final Set<String> OBJECT_ROOT = Set.of("apiVersion", "kind", "metadata");

  private SchemaPruning() {}

  /** Prunes {@code resource} in place and returns the paths it removed, e.g. {@code spec.replica}. */
  public static List<String> prune(JsonNode rootSchema, ObjectNode resource) {
    List<String> removed = new ArrayList<>();
    prune(rootSchema, resource, "", removed, true);
    return removed;
  }

  private static void prune(JsonNode schema, JsonNode value, String path, List<String> removed, boolean root) {
    if (value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        prune(schema.path("items"), value.get(i), path + "[" + i + "]", removed, false);
      }
      return;
    }
    if (!value.isObject()) {
      return;
    }
    boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    JsonNode properties = schema.path("properties");
    JsonNode additional = schema.path("additionalProperties");
    for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      String fieldPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
      if (root && OBJECT_ROOT.contains(field.getKey())) {
        continue;
      }
      if (properties.has(field.getKey())) {
        prune(properties.get(field.getKey()), field.getValue(), fieldPath, removed, false);
      } else if (additional.isObject()) {
        prune(additional, field.getValue(), fieldPath, removed, false);
      } else if (!preserve) {
        removed.add(fieldPath);
        fields.remove();
      }
    }
  }
}
