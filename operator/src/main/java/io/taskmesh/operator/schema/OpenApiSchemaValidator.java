package io.taskmesh.operator.schema;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The part of Kubernetes' structural-schema validation a CRD like ours relies on: types, required,
 * minimum/maximum, pattern, enum, items, unknown fields (which kubectl's strict field validation
 * refuses), and CEL rules (x-kubernetes-validations, evaluated by {@link CelRules} on a value whose
 * own schema checks passed). Errors name the field path as the API server does, e.g. {@code spec.replicas}.
 */
public final class OpenApiSchemaValidator {
  private OpenApiSchemaValidator() {}

  /** x-kubernetes-list-type: a {@code set} holds no value twice, a {@code map} no two items with the same keys. */
  private static void checkListType(JsonNode schema, JsonNode value, String path, List<String> errors) {
    String listType = schema.path("x-kubernetes-list-type").asText("atomic");
    java.util.Set<JsonNode> seen = new java.util.HashSet<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      JsonNode key = item;
      if (listType.equals("map")) {
        com.fasterxml.jackson.databind.node.ObjectNode keys = com.fasterxml.jackson.databind.node.JsonNodeFactory
            .instance.objectNode();
        schema.path("x-kubernetes-list-map-keys").forEach(name -> keys.set(name.asText(), item.path(name.asText())));
        key = keys;
      }
      if (!listType.equals("atomic") && !seen.add(key)) {
        errors.add(path + "[" + i + "]: Duplicate value: " + key);
      }
    }
  }

  public static List<String> validate(JsonNode schema, JsonNode value) {
    List<String> errors = new ArrayList<>();
    check(schema, value, "", errors);
    return errors;
  }

  private static void check(JsonNode schema, JsonNode value, String path, List<String> errors) {
    int errorsBefore = errors.size();
    if (schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false) && !schema.has("properties")) {
      return;
    }
    String type = schema.path("type").asText("");
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      if (!value.isIntegralNumber() && !value.isTextual()) {
        errors.add(path + ": must be an integer or a string");
      }
      return;
    }
    switch (type) {
      case "object" -> checkObject(schema, value, path, errors);
      case "array" -> {
        if (value.isArray() && schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) {
          errors.add(path + ": must have at most " + schema.get("maxItems").asText() + " items");
        }
        if (!value.isArray()) {
          errors.add(path + ": must be an array");
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          check(schema.path("items"), value.get(i), path + "[" + i + "]", errors);
        }
        checkListType(schema, value, path, errors);
      }
      case "string" -> {
        if (value.isTextual() && schema.has("maxLength") && value.asText().length() > schema.get("maxLength").asInt()) {
          errors.add(path + ": may not be longer than " + schema.get("maxLength").asText());
        }
        if (value.isTextual() && schema.has("minLength") && value.asText().length() < schema.get("minLength").asInt()) {
          errors.add(path + ": must be at least " + schema.get("minLength").asText() + " characters");
        }
        if (!value.isTextual()) {
          errors.add(path + ": must be a string");
        } else if (schema.has("pattern") && !java.util.regex.Pattern.compile(schema.get("pattern").asText())
            .matcher(value.asText()).find()) {
          errors.add(path + ": '" + value.asText() + "' does not match " + schema.get("pattern").asText());
        }
      }
      case "integer", "number" -> {
        if (type.equals("integer") ? !value.isIntegralNumber() : !value.isNumber()) {
          errors.add(path + ": must be " + (type.equals("integer") ? "an integer" : "a number"));
        } else {
          if (schema.has("minimum") && value.asDouble() < schema.get("minimum").asDouble()) {
            errors.add(path + ": must be >= " + schema.get("minimum").asText());
          }
          if (schema.has("maximum") && value.asDouble() > schema.get("maximum").asDouble()) {
            errors.add(path + ": must be <= " + schema.get("maximum").asText());
          }
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          errors.add(path + ": must be a boolean");
        }
      }
      default -> { }
    }
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      if (errors.size() == errorsBefore && !CelRules.holds(rule.path("rule").asText(), value)) {
        errors.add(path + rule.path("fieldPath").asText("") + ": " + rule.path("message").asText(rule.path("rule").asText()));
      }
    }
    if (schema.has("enum")) {
      boolean allowed = false;
      for (JsonNode option : schema.get("enum")) {
        allowed |= option.equals(value);
      }
      if (!allowed) {
        errors.add(path + ": '" + value.asText() + "' is not one of " + schema.get("enum"));
      }
    }
  }

  private static void checkObject(JsonNode schema, JsonNode value, String path, List<String> errors) {
    if (!value.isObject()) {
      errors.add(path + ": must be an object");
      return;
    }
    if (schema.has("maxProperties") && value.size() > schema.get("maxProperties").asInt()) {
      errors.add(path + ": must have at most " + schema.get("maxProperties").asText() + " properties");
    }
    for (JsonNode required : schema.path("required")) {
      if (!value.has(required.asText())) {
        errors.add(join(path, required.asText()) + ": required");
      }
    }
    JsonNode properties = schema.path("properties");
    JsonNode additional = schema.path("additionalProperties");
    for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      String fieldPath = join(path, field.getKey());
      if (properties.has(field.getKey())) {
        check(properties.get(field.getKey()), field.getValue(), fieldPath, errors);
      } else if (additional.isObject()) {
        check(additional, field.getValue(), fieldPath, errors);
      } else if (!schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
        errors.add(fieldPath + ": unknown field");
      }
    }
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }
}
