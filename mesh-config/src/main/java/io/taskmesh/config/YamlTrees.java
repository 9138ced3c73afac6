package io.taskmesh.config;

import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.emitter.Emitter;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.DocumentEndEvent;
import org.yaml.snakeyaml.events.DocumentStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ImplicitTuple;
import org.yaml.snakeyaml.events.MappingEndEvent;
import org.yaml.snakeyaml.events.MappingStartEvent;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.events.SequenceEndEvent;
import org.yaml.snakeyaml.events.SequenceStartEvent;
import org.yaml.snakeyaml.events.StreamEndEvent;
import org.yaml.snakeyaml.events.StreamStartEvent;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * YAML (and so JSON) to plain trees and back, on SnakeYAML alone: a proxy reads its config without a data-binding
 * library (Jackson's YAML support loaded some 500 classes into every sidecar). A tree is made of
 * {@code Map<String, Object>} (in document order), {@code List<Object>}, {@code String}, {@code Integer},
 * {@code Long}, {@code BigInteger}, {@code Double}, {@code Boolean} and {@code null}.
 *
 * <p>Both directions keep the text configs had when Jackson read and wrote them, because sidecars and the operator
 * compare configs by the hash of their written form, across versions: scalars are typed by YAML 1.1's rules
 * (unquoted {@code on}/{@code off}/{@code yes}/{@code no} are booleans, {@code 0x1F} and {@code 010} whole
 * numbers, a date stays text), and a written string is quoted only when it would read back as something else.
 */
final class YamlTrees {
  private static final ImplicitTuple NO_TAGS = new ImplicitTuple(true, true);
  /** Words YAML 1.1 reads as booleans or null: written quoted when they are strings. */
  private static final Set<String> RESERVED_WORDS = Set.of(
      "false", "False", "FALSE", "n", "N", "no", "No", "NO", "null", "Null", "NULL", "on", "On", "ON",
      "off", "Off", "OFF", "true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES");

  private YamlTrees() {}

  /** The document's tree; null for an empty document. */
  static Object read(String text) {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      root = new Composer(new ParserImpl(new StreamReader(new StringReader(text)), options), new Resolver(), options)
          .getSingleNode();
    } catch (MarkedYAMLException e) {
      throw new ConfigException("", "not valid YAML or JSON: " + e.getProblem()
          + (e.getProblemMark() == null ? "" : " at line " + (e.getProblemMark().getLine() + 1)
              + ", column " + (e.getProblemMark().getColumn() + 1)));
    } catch (YAMLException e) {
      throw new ConfigException("", "not valid YAML or JSON: " + e.getMessage());
    }
    return root == null ? null : value(root);
  }

  private static Object value(Node node) {
    if (node instanceof MappingNode mapping) {
      Map<String, Object> entries = new LinkedHashMap<>();
      for (NodeTuple tuple : mapping.getValue()) {
        if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
          throw new ConfigException("", "not valid YAML or JSON: a key must be a name, not a mapping or a list, at line "
              + (tuple.getKeyNode().getStartMark().getLine() + 1));
        }
        entries.put(key.getValue(), value(tuple.getValueNode()));
      }
      return entries;
    }
    if (node instanceof SequenceNode sequence) {
      List<Object> items = new ArrayList<>();
      sequence.getValue().forEach(item -> items.add(value(item)));
      return items;
    }
    return scalar((ScalarNode) node);
  }

  private static Object scalar(ScalarNode node) {
    String text = node.getValue();
    Tag tag = node.getTag();
    if (tag.equals(Tag.NULL)) {
      return null;
    }
    if (tag.equals(Tag.BOOL)) {
      Boolean bool = bool(text);
      return bool == null ? text : bool;
    }
    if (tag.equals(Tag.INT)) {
      return wholeNumber(text);
    }
    if (tag.equals(Tag.FLOAT)) {
      try {
        return Double.parseDouble(text.replace("_", ""));
      } catch (NumberFormatException e) {
        return text; // .inf and .nan: no config value takes them, and they are refused as what they say
      }
    }
    return text; // strings, and what YAML 1.1 has beyond JSON's types (dates, binary): their text
  }

  private static Boolean bool(String text) {
    return switch (text.toLowerCase(java.util.Locale.ROOT)) {
      case "y", "yes", "on", "true" -> Boolean.TRUE;
      case "n", "no", "off", "false" -> Boolean.FALSE;
      default -> null;
    };
  }

  /** {@code 42}, {@code 1_000}, {@code 0x1F}, {@code 0b101}, {@code 010} (octal); base 60 ({@code 1:30}) stays text. */
  private static Object wholeNumber(String text) {
    boolean negative = text.startsWith("-");
    String digits = text.startsWith("-") || text.startsWith("+") ? text.substring(1) : text;
    digits = digits.replace("_", "");
    int radix = 10;
    if (digits.startsWith("0x") || digits.startsWith("0X")) {
      radix = 16;
      digits = digits.substring(2);
    } else if (digits.startsWith("0b") || digits.startsWith("0B")) {
      radix = 2;
      digits = digits.substring(2);
    } else if (digits.length() > 1 && digits.startsWith("0")) {
      radix = 8;
      digits = digits.substring(1);
    }
    BigInteger number;
    try {
      number = new BigInteger(digits, radix);
    } catch (NumberFormatException e) {
      return text;
    }
    if (negative) {
      number = number.negate();
    }
    if (number.bitLength() < 32) {
      return number.intValue();
    }
    return number.bitLength() < 64 ? (Object) number.longValue() : number;
  }

  /** The tree in block style, keys in the maps' order, strings quoted only where they would read back otherwise. */
  static String write(Map<String, ?> tree) {
    StringWriter text = new StringWriter();
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Emitter emitter = new Emitter(text, options);
    try {
      emit(emitter, new StreamStartEvent(null, null));
      emit(emitter, new DocumentStartEvent(null, null, false, null, Map.of()));
      writeValue(emitter, tree);
      emit(emitter, new DocumentEndEvent(null, null, false));
      emit(emitter, new StreamEndEvent(null, null));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("writing to a string cannot fail", e);
    }
    return text.toString();
  }

  private static void writeValue(Emitter emitter, Object value) throws java.io.IOException {
    if (value instanceof Map<?, ?> map) {
      emit(emitter, new MappingStartEvent(null, null, true, null, null, DumperOptions.FlowStyle.BLOCK));
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        String key = String.valueOf(entry.getKey());
        scalar(emitter, key, keyNeedsQuotes(key) ? DumperOptions.ScalarStyle.DOUBLE_QUOTED : DumperOptions.ScalarStyle.PLAIN);
        writeValue(emitter, entry.getValue());
      }
      emit(emitter, new MappingEndEvent(null, null));
    } else if (value instanceof Collection<?> items) {
      emit(emitter, new SequenceStartEvent(null, null, true, null, null, DumperOptions.FlowStyle.BLOCK));
      for (Object item : items) {
        writeValue(emitter, item);
      }
      emit(emitter, new SequenceEndEvent(null, null));
    } else if (value instanceof String string) {
      scalar(emitter, string, stringStyle(string));
    } else if (value instanceof Enum<?> constant) {
      scalar(emitter, constant.name(), stringStyle(constant.name()));
    } else {
      scalar(emitter, String.valueOf(value), DumperOptions.ScalarStyle.PLAIN); // numbers, booleans, null
    }
  }

  private static DumperOptions.ScalarStyle stringStyle(String value) {
    if (value.isEmpty()) {
      return DumperOptions.ScalarStyle.DOUBLE_QUOTED;
    }
    if (value.indexOf('\n') >= 0) {
      return DumperOptions.ScalarStyle.LITERAL;
    }
    return isReservedWord(value) || hasIndicator(value) ? DumperOptions.ScalarStyle.DOUBLE_QUOTED
        : DumperOptions.ScalarStyle.PLAIN;
  }

  private static boolean keyNeedsQuotes(String key) {
    if (key.isEmpty() || isReservedWord(key) || "0123456789-+.".indexOf(key.charAt(0)) >= 0) {
      return true;
    }
    return key.chars().anyMatch(c -> c < 0x20);
  }

  private static boolean isReservedWord(String value) {
    return value.startsWith("~") || RESERVED_WORDS.contains(value);
  }

  /** Flow indicators anywhere, a comment start ({@code #} first or after a blank), a key end ({@code :} last or before one). */
  private static boolean hasIndicator(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '[' || c == ']' || c == '{' || c == '}' || c == ',') {
        return true;
      }
      if (c == '#' && (i == 0 || isBlank(value.charAt(i - 1)))) {
        return true;
      }
      if (c == ':' && (i == value.length() - 1 || isBlank(value.charAt(i + 1)))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  private static void scalar(Emitter emitter, String value, DumperOptions.ScalarStyle style) throws java.io.IOException {
    emit(emitter, new ScalarEvent(null, null, NO_TAGS, value, null, null, style));
  }

  private static void emit(Emitter emitter, Event event) throws java.io.IOException {
    emitter.emit(event);
  }
}
