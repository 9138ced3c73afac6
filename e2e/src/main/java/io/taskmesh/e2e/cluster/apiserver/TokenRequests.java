package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code POST .../serviceaccounts/<name>/token} (TokenRequest): mints a token for an existing ServiceAccount,
 * for the audiences asked (the API server's own when none), optionally bound to a pod of its namespace, as the
 * kubelet asks for each projected {@code serviceAccountToken} volume source.
 */
final class TokenRequests {
  private static final long DEFAULT_EXPIRATION_SECONDS = 3600;
  private static final long MIN_EXPIRATION_SECONDS = 600;

  private final ObjectStore store;
  private final ServiceAccountTokens tokens;

  TokenRequests(ObjectStore store, ServiceAccountTokens tokens) {
    this.store = store;
    this.tokens = tokens;
  }

  Optional<MockResponse> answer(ApiRequest api, JsonNode body) {
    if (!api.is("POST", "", "serviceaccounts") || !"token".equals(api.subresource())) {
      return Optional.empty();
    }
    ObjectNode account = store.get(api.objectPath(api.name())).orElseThrow(() -> new ApiException(404, "NotFound",
        "serviceaccounts \"" + api.name() + "\" not found"));
    JsonNode spec = body.path("spec");
    long expirationSeconds = spec.path("expirationSeconds").asLong(DEFAULT_EXPIRATION_SECONDS);
    if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
      throw ApiException.invalid("TokenRequest", api.name(),
          "spec.expirationSeconds: Invalid value: " + expirationSeconds + ": may not specify a duration less than 10 minutes");
    }
    List<String> audiences = new ArrayList<>();
    spec.path("audiences").forEach(audience -> audiences.add(audience.asText()));
    if (audiences.isEmpty()) {
      audiences.add(ServiceAccountTokens.API_AUDIENCE);
    }
    JsonNode bound = spec.path("boundObjectRef");
    String podName = null;
    String podUid = null;
    if (!bound.isMissingNode() && !bound.isNull()) {
      if (!bound.path("kind").asText().equals("Pod")) {
        throw ApiException.invalid("TokenRequest", api.name(), "spec.boundObjectRef.kind: Unsupported value: \""
            + bound.path("kind").asText() + "\": supported values: \"Pod\"");
      }
      podName = bound.path("name").asText();
      podUid = bound.path("uid").asText(null);
      ObjectNode pod = pod(api.namespace(), podName).orElseThrow(() -> new ApiException(404, "NotFound",
          "pods \"" + bound.path("name").asText() + "\" not found"));
      String storedUid = pod.at("/metadata/uid").asText(null);
      if (podUid != null && storedUid != null && !podUid.equals(storedUid)) {
        throw new ApiException(409, "Conflict", "the UID in the bound object reference (" + podUid
            + ") does not match the UID in record (" + storedUid + "); the object might have been deleted and then recreated");
      }
    }
    Instant expires = tokens.now().plusSeconds(expirationSeconds).truncatedTo(ChronoUnit.SECONDS);
    String token = tokens.mint(new ServiceAccountTokens.Grant(api.namespace(), api.name(),
        account.at("/metadata/uid").asText(""), audiences, podName, podUid, expires));
    ObjectNode answer = ((ObjectNode) body).deepCopy();
    answer.put("kind", "TokenRequest").put("apiVersion", "authentication.k8s.io/v1");
    answer.withObjectProperty("metadata").put("name", api.name()).put("namespace", api.namespace());
    ObjectNode answeredSpec = answer.withObjectProperty("spec");
    answeredSpec.put("expirationSeconds", expirationSeconds);
    answeredSpec.putArray("audiences").addAll(audiences.stream().map(answer::textNode).toList());
    answer.putObject("status").put("token", token).put("expirationTimestamp", expires.toString());
    return Optional.of(new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
        .setBody(answer.toString()));
  }

  private Optional<ObjectNode> pod(String namespace, String name) {
    return store.get("/api/v1/namespaces/" + namespace + "/pods/" + name);
  }
}
