package io.taskmesh.operator;

import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The requests one client made to the mock API server, as RBAC sees them: (apiGroup, resource, verb). */
final class RequestAudit {
  /** One request in RBAC terms; {@code namespace} is null for cluster-scoped paths. */
  record Call(String apiGroup, String resource, String verb, String namespace, String request) {}

  private RequestAudit() {}

  /** Takes every request recorded so far and keeps those sent with {@code userAgent}. */
  static List<Call> drain(KubernetesMockServer server, String userAgent) throws InterruptedException {
    List<Call> calls = new ArrayList<>();
    RecordedRequest request;
    while ((request = server.takeRequest(1, TimeUnit.SECONDS)) != null) {
      if (userAgent.equals(request.getHeader("User-Agent"))) {
        Call call = toCall(request.getMethod(), request.getPath());
        if (call != null) {
          calls.add(call);
        }
      }
    }
    return calls;
  }

  /** @return null for non-resource paths (/version, /apis), which every user may read */
  static Call toCall(String method, String pathAndQuery) {
    String path = pathAndQuery.split("\\?", 2)[0];
    String query = pathAndQuery.contains("?") ? pathAndQuery.split("\\?", 2)[1] : "";
    String[] segments = path.substring(1).split("/");
    String group;
    int rest;
    if (segments[0].equals("api") && segments.length > 2) {
      group = "";
      rest = 2;
    } else if (segments[0].equals("apis") && segments.length > 3) {
      group = segments[1];
      rest = 3;
    } else {
      return null;
    }
    List<String> parts = List.of(segments).subList(rest, segments.length);
    String namespace = null;
    if (parts.get(0).equals("namespaces") && parts.size() > 2) {
      namespace = parts.get(1);
      parts = parts.subList(2, parts.size());
    }
    String resource = parts.get(0) + (parts.size() > 2 ? "/" + parts.get(2) : "");
    boolean named = parts.size() > 1;
    String verb = switch (method) {
      case "GET" -> named ? "get" : query.contains("watch=true") ? "watch" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> named ? "delete" : "deletecollection";
      default -> method.toLowerCase();
    };
    return new Call(group, resource, verb, namespace, method + " " + pathAndQuery);
  }
}
