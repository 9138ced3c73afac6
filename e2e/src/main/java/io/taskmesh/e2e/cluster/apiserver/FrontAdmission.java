package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The admission steps of pod creation that may wait on the network - the built-in pod defaults followed by the
 * mutating webhooks, in the API server's order - run in the HTTPS front, on the client connection's thread,
 * before the request reaches the mock (whose single event loop must stay free: a webhook may call the API
 * server back). The mock listens on loopback only, so every pod passes here.
 */
final class FrontAdmission {
  /** The body to forward, or a refusal to answer with. */
  record Result(byte[] body, MockResponse refusal) {}

  private final List<Admission> podCreation;

  FrontAdmission(List<Admission> podCreation) {
    this.podCreation = podCreation;
  }

  Result admit(String method, String target, byte[] body) {
    ApiRequest api = ApiRequest.parse(method, target);
    if (!api.is("POST", "", "pods") || api.name() != null || body.length == 0) {
      return new Result(body, null);
    }
    try {
      JsonNode parsed = ObjectStore.parse(new String(body, StandardCharsets.UTF_8));
      if (!parsed.isObject()) {
        return new Result(body, null);
      }
      ObjectNode pod = (ObjectNode) parsed;
      Warnings warnings = new Warnings();
      for (Admission step : podCreation) {
        pod = step.admit(api, pod, Optional.empty(), warnings);
      }
      return new Result(pod.toString().getBytes(StandardCharsets.UTF_8), null);
    } catch (ApiException e) {
      return new Result(null, e.toResponse());
    }
  }
}
