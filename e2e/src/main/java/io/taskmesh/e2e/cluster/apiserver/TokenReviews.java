package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code POST /apis/authentication.k8s.io/v1/tokenreviews}: who holds a token this API server minted. As
 * Kubernetes answers: authenticated as {@code system:serviceaccount:<namespace>:<name>} with the token's
 * audiences that the review asks for (the API server's own when it names none); not authenticated, with an
 * error, when the token is unknown or expired, is for none of those audiences, or its ServiceAccount or bound
 * pod is gone.
 */
final class TokenReviews {
  private final ObjectStore store;
  private final ServiceAccountTokens tokens;

  TokenReviews(ObjectStore store, ServiceAccountTokens tokens) {
    this.store = store;
    this.tokens = tokens;
  }

  Optional<MockResponse> answer(ApiRequest api, JsonNode body) {
    if (!api.is("POST", "authentication.k8s.io", "tokenreviews")) {
      return Optional.empty();
    }
    String token = body.at("/spec/token").asText("");
    List<String> wanted = new ArrayList<>();
    body.at("/spec/audiences").forEach(audience -> wanted.add(audience.asText()));
    if (wanted.isEmpty()) {
      wanted.add(ServiceAccountTokens.API_AUDIENCE);
    }
    ObjectNode review = ((ObjectNode) body).deepCopy();
    ObjectNode status = review.putObject("status");
    try {
      ServiceAccountTokens.Grant grant = tokens.grant(token)
          .orElseThrow(() -> new Refused("invalid bearer token, token is unknown or has expired"));
      List<String> audiences = grant.audiences().stream().filter(wanted::contains).toList();
      if (audiences.isEmpty()) {
        throw new Refused("invalid bearer token, token audiences " + grant.audiences()
            + " is invalid for the target audiences " + wanted);
      }
      stillThere(grant);
      status.put("authenticated", true);
      ObjectNode user = status.putObject("user");
      user.put("username", "system:serviceaccount:" + grant.namespace() + ":" + grant.serviceAccount());
      user.put("uid", grant.serviceAccountUid());
      user.putArray("groups").add("system:serviceaccounts").add("system:serviceaccounts:" + grant.namespace())
          .add("system:authenticated");
      if (grant.podName() != null) {
        ObjectNode extra = user.putObject("extra");
        extra.putArray("authentication.kubernetes.io/pod-name").add(grant.podName());
        if (grant.podUid() != null) {
          extra.putArray("authentication.kubernetes.io/pod-uid").add(grant.podUid());
        }
      }
      audiences.forEach(status.putArray("audiences")::add);
    } catch (Refused refused) {
      status.put("authenticated", false);
      status.putObject("user");
      status.put("error", refused.getMessage());
    }
    return Optional.of(new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
        .setBody(review.toString()));
  }

  /** A token outlives neither its ServiceAccount nor the pod it is bound to (same uid: not a namesake). */
  private void stillThere(ServiceAccountTokens.Grant grant) {
    String namespace = "/api/v1/namespaces/" + grant.namespace();
    ObjectNode account = store.get(namespace + "/serviceaccounts/" + grant.serviceAccount())
        .orElseThrow(() -> new Refused("invalid bearer token, serviceaccounts \"" + grant.serviceAccount()
            + "\" not found"));
    if (!grant.serviceAccountUid().isEmpty() && !grant.serviceAccountUid().equals(account.at("/metadata/uid").asText(""))) {
      throw new Refused("invalid bearer token, the ServiceAccount " + grant.serviceAccount() + " was recreated");
    }
    if (grant.podName() != null) {
      ObjectNode pod = store.get(namespace + "/pods/" + grant.podName())
          .orElseThrow(() -> new Refused("invalid bearer token, pods \"" + grant.podName() + "\" not found"));
      if (grant.podUid() != null && !grant.podUid().equals(pod.at("/metadata/uid").asText(""))) {
        throw new Refused("invalid bearer token, the pod " + grant.podName() + " was recreated");
      }
    }
  }

  private static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }
}
