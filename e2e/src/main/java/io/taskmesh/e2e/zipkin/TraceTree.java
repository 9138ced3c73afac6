package io.taskmesh.e2e.zipkin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Draws one trace as an indented tree: who called whom (a sidecar's spans carry {@code taskmesh.direction},
 * the app's do not), span kind, and how long each hop took.
 */
public final class TraceTree {
  private TraceTree() {}

  public static String render(List<Span> spans) {
    if (spans.isEmpty()) {
      return "(no spans)\n";
    }
    Set<String> ids = spans.stream().map(Span::id).collect(Collectors.toSet());
    Map<String, List<Span>> children = spans.stream()
        .filter(s -> s.parentId() != null && ids.contains(s.parentId()))
        .collect(Collectors.groupingBy(Span::parentId));
    List<Span> roots = spans.stream()
        .filter(s -> s.parentId() == null || !ids.contains(s.parentId()))
        .sorted(Comparator.comparingLong(Span::timestamp))
        .toList();
    StringBuilder out = new StringBuilder("trace ").append(spans.get(0).traceId()).append('\n');
    for (Span root : roots) {
      draw(root, children, "", true, out);
    }
    return out.toString();
  }

  private static void draw(Span span, Map<String, List<Span>> children, String indent, boolean last, StringBuilder out) {
    out.append(indent).append(last ? "└─ " : "├─ ")
        .append(span.serviceName()).append(' ')
        .append(span.tags().containsKey("taskmesh.direction") ? "sidecar " : "app ")
        .append(span.kind() == null ? "LOCAL" : span.kind()).append(' ')
        .append(span.name()).append("  ")
        .append(String.format("%.1f ms", span.duration() / 1000.0));
    String status = span.tags().get("rpc.grpc.status_code");
    if (status != null) {
      out.append("  grpc-status=").append(status);
    }
    out.append('\n');
    List<Span> kids = new ArrayList<>(children.getOrDefault(span.id(), List.of()));
    kids.sort(Comparator.comparingLong(Span::timestamp));
    for (int i = 0; i < kids.size(); i++) {
      draw(kids.get(i), children, indent + (last ? "   " : "│  "), i == kids.size() - 1, out);
    }
  }

  /** The distinct services that recorded a span in this trace, by their order of first appearance. */
  public static List<String> services(List<Span> spans) {
    return spans.stream().sorted(Comparator.comparingLong(Span::timestamp))
        .map(Span::serviceName).distinct().collect(Collectors.toList());
  }
}
