package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.util.Optional;

/**
 * {@code SelfSubjectRulesReview}: what the caller may do in a namespace, read from the stored RBAC objects
 * (RoleBindings there and ClusterRoleBindings, with the Roles and ClusterRoles they name). This API server
 * authenticates nobody - every pod holds the same token - so the caller is taken to be any ServiceAccount:
 * the answer is the rules bound to ServiceAccount subjects. A chart whose RBAC lacks a rule is still caught.
 */
final class RulesReviews {
  private final ObjectStore store;

  RulesReviews(ObjectStore store) {
    this.store = store;
  }

  Optional<MockResponse> answer(ApiRequest api, JsonNode body) {
    if (!api.is("POST", "authorization.k8s.io", "selfsubjectrulesreviews")) {
      return Optional.empty();
    }
    String namespace = body.at("/spec/namespace").asText("");
    ObjectNode review = ((ObjectNode) body).deepCopy();
    ObjectNode status = review.putObject("status");
    ArrayNode rules = status.putArray("resourceRules");
    status.putArray("nonResourceRules");
    status.put("incomplete", false);
    for (ObjectNode binding : store.list("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")) {
      addRules(binding, rules);
    }
    if (!namespace.isEmpty()) {
      for (ObjectNode binding : store.list("/apis/rbac.authorization.k8s.io/v1/namespaces/" + namespace + "/rolebindings")) {
        addRules(binding, rules);
      }
    }
    return Optional.of(new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
        .setBody(review.toString()));
  }

  private void addRules(ObjectNode binding, ArrayNode rules) {
    boolean toServiceAccount = false;
    for (JsonNode subject : binding.path("subjects")) {
      toServiceAccount |= subject.path("kind").asText().equals("ServiceAccount");
    }
    if (!toServiceAccount) {
      return;
    }
    JsonNode roleRef = binding.path("roleRef");
    String path = roleRef.path("kind").asText().equals("ClusterRole")
        ? "/apis/rbac.authorization.k8s.io/v1/clusterroles/" + roleRef.path("name").asText()
        : "/apis/rbac.authorization.k8s.io/v1/namespaces/" + binding.at("/metadata/namespace").asText() + "/roles/"
            + roleRef.path("name").asText();
    store.get(path).ifPresent(role -> role.path("rules").forEach(rule -> {
      if (rule.has("resources")) {
        rules.add(rule.deepCopy());
      }
    }));
  }
}
