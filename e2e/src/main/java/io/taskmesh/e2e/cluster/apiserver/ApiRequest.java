package io.taskmesh.e2e.cluster.apiserver;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request to the API server, read as the API server reads its path: group, version, namespace, resource,
 * name and subresource, plus the query. {@code group} is "" for the core group ({@code /api/v1}).
 */
record ApiRequest(String method, String path, Map<String, String> query, String group, String version,
    String namespace, String resource, String name, String subresource) {
  private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

  static ApiRequest parse(String method, String target) {
    int questionMark = target.indexOf('?');
    String path = questionMark < 0 ? target : target.substring(0, questionMark);
    Map<String, String> query = new LinkedHashMap<>();
    if (questionMark >= 0) {
      for (String pair : target.substring(questionMark + 1).split("&")) {
        if (!pair.isEmpty()) {
          int equals = pair.indexOf('=');
          query.put(decode(equals < 0 ? pair : pair.substring(0, equals)), equals < 0 ? "" : decode(pair.substring(equals + 1)));
        }
      }
    }
    List<String> segments = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
    String group;
    String version;
    List<String> rest;
    if (segments.size() >= 2 && segments.get(0).equals("api")) {
      group = "";
      version = segments.get(1);
      rest = segments.subList(2, segments.size());
    } else if (segments.size() >= 3 && segments.get(0).equals("apis")) {
      group = segments.get(1);
      version = segments.get(2);
      rest = segments.subList(3, segments.size());
    } else {
      return new ApiRequest(method, path, query, null, null, null, null, null, null);
    }
    String namespace = null;
    if (rest.size() >= 3 && rest.get(0).equals("namespaces") && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) {
      namespace = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    return new ApiRequest(method, path, query, group, version, namespace,
        rest.isEmpty() ? null : rest.get(0), rest.size() > 1 ? rest.get(1) : null, rest.size() > 2 ? rest.get(2) : null);
  }

  /** Whether this names a resource type (as opposed to discovery or another non-resource path). */
  boolean isResource() {
    return resource != null;
  }

  boolean is(String method, String group, String resource) {
    return this.method.equals(method) && group.equals(this.group) && resource.equals(this.resource);
  }

  boolean isWatch() {
    return "true".equals(query.get("watch")) || "1".equals(query.get("watch"));
  }

  /** The API path of the named object this request addresses, without subresource or query. */
  String objectPath(String objectName) {
    String base = group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
    return base + (namespace == null ? "" : "/namespaces/" + namespace) + "/" + resource + "/" + objectName;
  }

  private static String decode(String value) {
    return URLDecoder.decode(value, StandardCharsets.UTF_8);
  }
}
