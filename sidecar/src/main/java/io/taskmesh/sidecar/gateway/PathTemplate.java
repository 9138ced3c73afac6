package io.taskmesh.sidecar.gateway;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code google.api.http} path template: literal segments, {@code *}, {@code **}, variables
 * {@code {field}} / {@code {field=*}} / {@code {field=**}}, and an optional {@code :verb} at the end, e.g.
 * {@code /api/tasks/{id}} or {@code /api/tasks:watch}.
 */
final class PathTemplate {
  /** One segment: a literal, or a variable (field path) matching one ({@code *}) or the rest ({@code **}). */
  private record Segment(String literal, String field, boolean rest) {}

  private final String text;
  private final List<Segment> segments;
  private final String verb;

  private PathTemplate(String text, List<Segment> segments, String verb) {
    this.text = text;
    this.segments = segments;
    this.verb = verb;
  }

  static PathTemplate parse(String template) {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("path template must start with '/': " + template);
    }
    String path = template;
    String verb = null;
    int lastSlash = path.lastIndexOf('/');
    int colon = path.indexOf(':', lastSlash);
    if (colon >= 0 && path.indexOf('}', colon) < 0) {
      verb = path.substring(colon + 1);
      path = path.substring(0, colon);
    }
    List<Segment> segments = new ArrayList<>();
    for (String part : splitOutsideBraces(path.substring(1))) {
      if (part.startsWith("{") && part.endsWith("}")) {
        String inner = part.substring(1, part.length() - 1);
        int equals = inner.indexOf('=');
        String field = equals < 0 ? inner : inner.substring(0, equals);
        String pattern = equals < 0 ? "*" : inner.substring(equals + 1);
        if (!pattern.equals("*") && !pattern.equals("**")) {
          throw new IllegalArgumentException("unsupported variable pattern '" + pattern + "' in " + template);
        }
        segments.add(new Segment(null, field, pattern.equals("**")));
      } else if (part.equals("*") || part.equals("**")) {
        segments.add(new Segment(null, null, part.equals("**")));
      } else {
        segments.add(new Segment(part, null, false));
      }
    }
    return new PathTemplate(template, List.copyOf(segments), verb);
  }

  /** The variables bound by {@code path} (already percent-decoded), or empty when it does not match. */
  Optional<Map<String, String>> match(String path) {
    if (!path.startsWith("/")) {
      return Optional.empty();
    }
    String rest = path.substring(1);
    if (verb != null) {
      String suffix = ":" + verb;
      if (!rest.endsWith(suffix)) {
        return Optional.empty();
      }
      rest = rest.substring(0, rest.length() - suffix.length());
    }
    String[] parts = rest.split("/", -1);
    Map<String, String> variables = new LinkedHashMap<>();
    int i = 0;
    for (Segment segment : segments) {
      if (segment.rest()) {
        if (i >= parts.length) {
          return Optional.empty();
        }
        if (segment.field() != null) {
          variables.put(segment.field(), decode(String.join("/", List.of(parts).subList(i, parts.length))));
        }
        i = parts.length;
        continue;
      }
      if (i >= parts.length || parts[i].isEmpty()) {
        return Optional.empty();
      }
      if (segment.literal() != null && !segment.literal().equals(parts[i])) {
        return Optional.empty();
      }
      if (segment.field() != null) {
        variables.put(segment.field(), decode(parts[i]));
      }
      i++;
    }
    return i == parts.length ? Optional.of(variables) : Optional.empty();
  }

  private static String decode(String value) {
    try {
      return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformedEscape) {
      return value;
    }
  }

  private static List<String> splitOutsideBraces(String path) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
      } else if (c == '/' && depth == 0) {
        parts.add(path.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(path.substring(start));
    return parts;
  }

  @Override
  public String toString() {
    return text;
  }
}
