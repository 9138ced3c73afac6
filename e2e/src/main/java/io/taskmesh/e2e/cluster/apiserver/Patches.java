package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.zjsonpatch.JsonPatch;
import io.fabric8.zjsonpatch.JsonPatchException;
import java.util.Iterator;
import java.util.Map;

/**
 * The patch types the API server accepts, applied as it applies them: JSON patch (RFC 6902), JSON merge patch
 * (RFC 7386: lists are replaced, null deletes) and, for built-in types, strategic merge patch, approximated by
 * merging lists of named items ({@code containers}, {@code env}, {@code volumes}, ...) by name.
 */
final class Patches {
  static final String JSON_PATCH = "application/json-patch+json";
  static final String MERGE_PATCH = "application/merge-patch+json";
  static final String STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";

  private Patches() {}

  static JsonNode apply(String contentType, JsonNode patch, JsonNode current, boolean customResource) {
    String type = contentType == null ? "" : contentType.split(";")[0].trim();
    switch (type) {
      case JSON_PATCH -> {
        try {
          return JsonPatch.apply(patch, current);
        } catch (JsonPatchException | IllegalArgumentException e) {
          throw new ApiException(422, "Invalid", "the JSON patch cannot be applied: " + e.getMessage());
        }
      }
      case MERGE_PATCH -> {
        return merge(current.deepCopy(), patch, false);
      }
      case STRATEGIC_MERGE_PATCH -> {
        if (customResource) {
          throw new ApiException(415, "UnsupportedMediaType",
              "the body of the request was in an unknown format - accepted media types include: "
                  + JSON_PATCH + ", " + MERGE_PATCH + ", application/apply-patch+yaml");
        }
        return merge(current.deepCopy(), patch, true);
      }
      default -> throw new ApiException(415, "UnsupportedMediaType", "patch type " + type + " is not supported here");
    }
  }

  private static JsonNode merge(JsonNode target, JsonNode patch, boolean strategic) {
    if (!patch.isObject()) {
      return patch;
    }
    ObjectNode result = target != null && target.isObject() ? (ObjectNode) target : ((ObjectNode) patch).objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> fields = patch.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode value = field.getValue();
      if (value.isNull()) {
        result.remove(field.getKey());
      } else if (strategic && value.isArray() && result.path(field.getKey()).isArray() && named((ArrayNode) value)
          && named((ArrayNode) result.get(field.getKey()))) {
        result.set(field.getKey(), mergeByName((ArrayNode) result.get(field.getKey()), (ArrayNode) value));
      } else {
        result.set(field.getKey(), merge(result.get(field.getKey()), value, strategic));
      }
    }
    return result;
  }

  private static boolean named(ArrayNode items) {
    for (JsonNode item : items) {
      if (!item.path("name").isTextual()) {
        return false;
      }
    }
    return true;
  }

  private static ArrayNode mergeByName(ArrayNode current, ArrayNode patch) {
    ArrayNode result = current.deepCopy();
    for (JsonNode item : patch) {
      boolean merged = false;
      for (int i = 0; i < result.size(); i++) {
        if (result.get(i).path("name").equals(item.path("name"))) {
          if ("delete".equals(item.path("$patch").asText())) {
            result.remove(i);
          } else {
            result.set(i, merge(result.get(i), item, true));
          }
          merged = true;
          break;
        }
      }
      if (!merged && !"delete".equals(item.path("$patch").asText())) {
        result.add(item);
      }
    }
    return result;
  }
}
