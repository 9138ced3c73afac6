package io.taskmesh.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One mapping of the config tree as it is read (a plain tree, see {@link YamlTrees}): typed getters that apply
 * defaults and check ranges, each error naming the dotted key. {@link #finish()} then rejects every key nobody
 * asked for.
 */
final class ConfigNode {
  private final Map<?, ?> node;
  private final String path;
  private final Set<String> known = new LinkedHashSet<>();

  private ConfigNode(Object node, String path) {
    this.path = path;
    if (node != null && !(node instanceof Map)) {
      throw new ConfigException(path, "must be a mapping of keys to values, got " + describe(node));
    }
    this.node = node == null ? Map.of() : (Map<?, ?>) node;
  }

  static ConfigNode root(Object tree) {
    return new ConfigNode(tree, "");
  }

  String path(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  boolean has(String key) {
    known.add(key);
    return node.get(key) != null;
  }

  /** The child mapping at {@code key}; an absent key reads as an empty mapping, so every default applies. */
  ConfigNode object(String key) {
    return new ConfigNode(value(key), path(key));
  }

  String string(String key, String defaultValue) {
    Object value = value(key);
    if (value == null) {
      if (defaultValue == null) {
        throw new ConfigException(path(key), "is required");
      }
      return defaultValue;
    }
    if (value instanceof Map || value instanceof List) {
      throw new ConfigException(path(key), "must be a string, got " + describe(value));
    }
    String text = value.toString().trim();
    if (text.isEmpty()) {
      throw new ConfigException(path(key), "must not be empty");
    }
    return text;
  }

  String optionalString(String key) {
    return value(key) == null ? null : string(key, null);
  }

  int integer(String key, int defaultValue, int min, int max) {
    Object value = value(key);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof Integer whole)) { // a Long or BigInteger is out of range, a Double not whole
      throw new ConfigException(path(key), "must be a whole number, got " + describe(value));
    }
    int number = whole;
    if (number < min || number > max) {
      throw new ConfigException(path(key), "must be between " + min + " and " + max + ", got " + number);
    }
    return number;
  }

  double decimal(String key, double defaultValue, double min, double max) {
    Object value = value(key);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof Number given)) {
      throw new ConfigException(path(key), "must be a number, got " + describe(value));
    }
    double number = given.doubleValue();
    if (number < min || number > max) {
      throw new ConfigException(path(key), "must be between " + min + " and " + max + ", got " + value);
    }
    return number;
  }

  boolean bool(String key, boolean defaultValue) {
    Object value = value(key);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof Boolean bool)) {
      throw new ConfigException(path(key), "must be true or false, got " + describe(value));
    }
    return bool;
  }

  Duration duration(String key, Duration defaultValue, Duration min, Duration max) {
    Object value = value(key);
    if (value == null) {
      return defaultValue;
    }
    Duration duration;
    try {
      duration = Durations.parse(text(value));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path(key), e.getMessage());
    }
    if (duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
      throw new ConfigException(
          path(key),
          "must be between " + Durations.format(min) + " and " + Durations.format(max) + ", got " + text(value));
    }
    return duration;
  }

  /** Whether {@code key} holds the boolean false, which is what YAML 1.1 makes of an unquoted {@code off}. */
  boolean isFalse(String key) {
    return Boolean.FALSE.equals(value(key));
  }

  <E extends Enum<E>> E enumValue(String key, E defaultValue, Class<E> type) {
    Object value = value(key);
    if (value == null) {
      return defaultValue;
    }
    String text = text(value).trim();
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
    Object value = value(key);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof List<?> list)) {
      throw new ConfigException(path(key), "must be a list, got " + describe(value));
    }
    List<String> items = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Object item = list.get(i);
      if (!(item instanceof String text) || text.isBlank()) {
        throw new ConfigException(path(key) + "[" + i + "]", "must be a non-empty string, got " + describe(item));
      }
      items.add(text.trim());
    }
    return items;
  }

  /** The mappings listed at {@code key}, each to be read and finished by the caller. */
  List<ConfigNode> objects(String key) {
    Object value = value(key);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw new ConfigException(path(key), "must be a list, got " + describe(value));
    }
    List<ConfigNode> items = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      items.add(new ConfigNode(list.get(i), path(key) + "[" + i + "]"));
    }
    return items;
  }

  /** The keys of the mapping at {@code key} (whose names are data, not schema), in file order. */
  Map<String, Object> entries(String key) {
    Object value = value(key);
    Map<String, Object> entries = new LinkedHashMap<>();
    if (value == null) {
      return entries;
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw new ConfigException(path(key), "must be a mapping, got " + describe(value));
    }
    map.forEach((name, item) -> entries.put(String.valueOf(name), item));
    return entries;
  }

  ConfigNode entry(String key, String name, Object value) {
    return new ConfigNode(value, path(key) + "." + name);
  }

  /** Rejects any key of this mapping that no getter asked for, naming it and the keys that are allowed. */
  void finish() {
    for (Object name : node.keySet()) {
      if (!known.contains(String.valueOf(name))) {
        throw new ConfigException(path(String.valueOf(name)), "unknown key; allowed here: " + new TreeSet<>(known));
      }
    }
  }

  /** The value at {@code key}; null when absent or null. */
  private Object value(String key) {
    known.add(key);
    return node.get(key);
  }

  /** A scalar as the config wrote it; a number or boolean in its usual spelling. */
  private static String text(Object value) {
    return value instanceof Map || value instanceof List ? "" : String.valueOf(value);
  }

  private static String describe(Object value) {
    if (value instanceof Map) {
      return "a mapping";
    }
    if (value instanceof List) {
      return "a list";
    }
    return "'" + value + "'";
  }

  private static String names(Enum<?>[] constants) {
    return java.util.Arrays.toString(constants);
  }

}
