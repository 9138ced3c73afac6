package io.taskmesh.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One mapping of the config tree as it is read: typed getters that apply defaults and check ranges, each
 * error naming the dotted key. {@link #finish()} then rejects every key nobody asked for.
 */
final class ConfigNode {
  private final JsonNode node;
  private final String path;
  private final Set<String> known = new LinkedHashSet<>();

  private ConfigNode(JsonNode node, String path) {
    this.node = node;
    this.path = path;
    if (!node.isMissingNode() && !node.isNull() && !node.isObject()) {
      throw new ConfigException(path, "must be a mapping of keys to values, got " + describe(node));
    }
  }

  static ConfigNode root(JsonNode tree) {
    return new ConfigNode(tree, "");
  }

  String path(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  boolean has(String key) {
    known.add(key);
    JsonNode value = node.get(key);
    return value != null && !value.isNull();
  }

  /** The child mapping at {@code key}; an absent key reads as an empty mapping, so every default applies. */
  ConfigNode object(String key) {
    return new ConfigNode(value(key), path(key));
  }

  String string(String key, String defaultValue) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      if (defaultValue == null) {
        throw new ConfigException(path(key), "is required");
      }
      return defaultValue;
    }
    if (!value.isTextual() && !value.isNumber() && !value.isBoolean()) {
      throw new ConfigException(path(key), "must be a string, got " + describe(value));
    }
    String text = value.asText().trim();
    if (text.isEmpty()) {
      throw new ConfigException(path(key), "must not be empty");
    }
    return text;
  }

  String optionalString(String key) {
    return value(key).isMissingNode() ? null : string(key, null);
  }

  int integer(String key, int defaultValue, int min, int max) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return defaultValue;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw new ConfigException(path(key), "must be a whole number, got " + describe(value));
    }
    int number = value.intValue();
    if (number < min || number > max) {
      throw new ConfigException(path(key), "must be between " + min + " and " + max + ", got " + number);
    }
    return number;
  }

  double decimal(String key, double defaultValue, double min, double max) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return defaultValue;
    }
    if (!value.isNumber()) {
      throw new ConfigException(path(key), "must be a number, got " + describe(value));
    }
    double number = value.doubleValue();
    if (number < min || number > max) {
      throw new ConfigException(path(key), "must be between " + min + " and " + max + ", got " + value.asText());
    }
    return number;
  }

  boolean bool(String key, boolean defaultValue) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return defaultValue;
    }
    if (!value.isBoolean()) {
      throw new ConfigException(path(key), "must be true or false, got " + describe(value));
    }
    return value.booleanValue();
  }

  Duration duration(String key, Duration defaultValue, Duration min, Duration max) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return defaultValue;
    }
    Duration duration;
    try {
      duration = Durations.parse(value.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path(key), e.getMessage());
    }
    if (duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
      throw new ConfigException(
          path(key),
          "must be between " + Durations.format(min) + " and " + Durations.format(max) + ", got " + value.asText());
    }
    return duration;
  }

  /** Whether {@code key} holds the boolean false, which is what YAML 1.1 makes of an unquoted {@code off}. */
  boolean isFalse(String key) {
    JsonNode value = value(key);
    return value.isBoolean() && !value.booleanValue();
  }

  <E extends Enum<E>> E enumValue(String key, E defaultValue, Class<E> type) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return defaultValue;
    }
    String text = value.asText().trim();
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equalsIgnoreCase(text)) {
        return constant;
      }
    }
    throw new ConfigException(path(key), "must be one of " + names(type.getEnumConstants()) + ", got '" + text + "'");
  }

  /** One of {@code allowed} (compared without case, returned as written there). */
  String choice(String key, String defaultValue, List<String> allowed) {
    return match(key, string(key, defaultValue), allowed);
  }

  /** A list of strings each of which must be one of {@code allowed}. */
  List<String> choices(String key, List<String> defaultValue, List<String> allowed) {
    List<String> chosen = new ArrayList<>();
    for (String item : strings(key, defaultValue)) {
      chosen.add(match(key, item, allowed));
    }
    return chosen;
  }

  private String match(String key, String value, List<String> allowed) {
    return allowed.stream().filter(a -> a.equalsIgnoreCase(value)).findFirst()
        .orElseThrow(() -> new ConfigException(path(key), "'" + value + "' is not one of " + allowed));
  }

  List<String> strings(String key, List<String> defaultValue) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return defaultValue;
    }
    if (!value.isArray()) {
      throw new ConfigException(path(key), "must be a list, got " + describe(value));
    }
    List<String> items = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      if (!item.isTextual() || item.asText().isBlank()) {
        throw new ConfigException(path(key) + "[" + i + "]", "must be a non-empty string, got " + describe(item));
      }
      items.add(item.asText().trim());
    }
    return items;
  }

  /** The mappings listed at {@code key}, each to be read and finished by the caller. */
  List<ConfigNode> objects(String key) {
    JsonNode value = value(key);
    if (value.isMissingNode()) {
      return List.of();
    }
    if (!value.isArray()) {
      throw new ConfigException(path(key), "must be a list, got " + describe(value));
    }
    List<ConfigNode> items = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      items.add(new ConfigNode(value.get(i), path(key) + "[" + i + "]"));
    }
    return items;
  }

  /** The keys of the mapping at {@code key} (whose names are data, not schema), in file order. */
  Map<String, JsonNode> entries(String key) {
    JsonNode value = value(key);
    Map<String, JsonNode> entries = new LinkedHashMap<>();
    if (value.isMissingNode()) {
      return entries;
    }
    if (!value.isObject()) {
      throw new ConfigException(path(key), "must be a mapping, got " + describe(value));
    }
    value.fields().forEachRemaining(e -> entries.put(e.getKey(), e.getValue()));
    return entries;
  }

  ConfigNode entry(String key, String name, JsonNode value) {
    return new ConfigNode(value, path(key) + "." + name);
  }

  /** Rejects any key of this mapping that no getter asked for, naming it and the keys that are allowed. */
  void finish() {
    if (!node.isObject()) {
      return;
    }
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!known.contains(name)) {
        throw new ConfigException(path(name), "unknown key; allowed here: " + new TreeSet<>(known));
      }
    }
  }

  private JsonNode value(String key) {
    known.add(key);
    JsonNode value = node.get(key);
    return value == null || value.isNull() ? MissingNode.getInstance() : value;
  }

  private static String describe(JsonNode value) {
    if (value.isObject()) {
      return "a mapping";
    }
    if (value.isArray()) {
      return "a list";
    }
    return "'" + value.asText() + "'";
  }

  private static String names(Enum<?>[] constants) {
    return java.util.Arrays.toString(constants);
  }

}
