package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The API discovery documents clients read before they touch a resource ({@code /api}, {@code /apis},
 * {@code /api/v1}, {@code /apis/<group>/<version>}, {@code /version}, and the {@link OpenApi} documents): the
 * built-in types this cluster serves and every stored CRD's, with short names, scope, verbs and subresources.
 */
final class Discovery {
  private static final List<String> VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch",
      "update", "watch");

  /** A type the API server serves. */
  record ResourceType(String group, String version, String plural, String singular, String kind,
      boolean namespaced, List<String> shortNames, List<String> subresources) {
    String groupVersion() {
      return group.isEmpty() ? version : group + "/" + version;
    }
  }

  private static final List<ResourceType> BUILT_IN = List.of(
      new ResourceType("", "v1", "namespaces", "namespace", "Namespace", false, List.of("ns"), List.of("status")),
      new ResourceType("", "v1", "pods", "pod", "Pod", true, List.of("po"), List.of("status", "log")),
      new ResourceType("", "v1", "services", "service", "Service", true, List.of("svc"), List.of("status")),
      new ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", true, List.of("cm"), List.of()),
      new ResourceType("", "v1", "secrets", "secret", "Secret", true, List.of(), List.of()),
      new ResourceType("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, List.of("sa"), List.of()),
      new ResourceType("", "v1", "endpoints", "endpoints", "Endpoints", true, List.of("ep"), List.of()),
      new ResourceType("", "v1", "events", "event", "Event", true, List.of("ev"), List.of()),
      new ResourceType("", "v1", "nodes", "node", "Node", false, List.of("no"), List.of("status")),
      new ResourceType("apps", "v1", "deployments", "deployment", "Deployment", true, List.of("deploy"),
          List.of("status", "scale")),
      new ResourceType("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, List.of("rs"),
          List.of("status", "scale")),
      new ResourceType("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, List.of(),
          List.of()),
      new ResourceType("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, List.of(), List.of()),
      new ResourceType("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true,
          List.of("pdb"), List.of("status")),
      new ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false,
          List.of(), List.of()),
      new ResourceType("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
          "ClusterRoleBinding", false, List.of(), List.of()),
      new ResourceType("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, List.of(), List.of()),
      new ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true,
          List.of(), List.of()),
      new ResourceType("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
          "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, List.of(), List.of()),
      new ResourceType("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
          "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, List.of(), List.of()),
      new ResourceType("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "", "SelfSubjectRulesReview", false,
          List.of(), List.of()),
      new ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
          "CustomResourceDefinition", false, List.of("crd", "crds"), List.of("status")));

  private final ObjectStore store;
  private final OpenApi openApi;

  Discovery(ObjectStore store) {
    this.store = store;
    this.openApi = new OpenApi(this, store);
  }

  /** Every type served now: the built-in ones and those of the stored CRDs. */
  List<ResourceType> types() {
    List<ResourceType> types = new ArrayList<>(BUILT_IN);
    for (ObjectNode crd : store.list(CustomResourceSchemas.CRDS)) {
      JsonNode names = crd.at("/spec/names");
      List<String> shortNames = new ArrayList<>();
      names.path("shortNames").forEach(name -> shortNames.add(name.asText()));
      for (JsonNode version : crd.at("/spec/versions")) {
        if (version.path("served").asBoolean(true)) {
          types.add(new ResourceType(crd.at("/spec/group").asText(), version.path("name").asText(),
              names.path("plural").asText(), names.path("singular").asText(), names.path("kind").asText(),
              crd.at("/spec/scope").asText("Namespaced").equals("Namespaced"), shortNames,
              version.at("/subresources/status").isObject() ? List.of("status") : List.of()));
        }
      }
    }
    return types;
  }

  Optional<ResourceType> type(String group, String version, String plural) {
    return types().stream().filter(type -> type.group().equals(group) && type.version().equals(version)
        && type.plural().equals(plural)).findFirst();
  }

  /** The discovery document at {@code request}'s path, if it names one. */
  Optional<MockResponse> answer(ApiRequest request) {
    if (!request.method().equals("GET")) {
      return Optional.empty();
    }
    String path = request.path().replaceAll("/+$", "");
    ObjectNode document;
    if (path.equals("/api")) {
      document = ObjectStore.JSON.createObjectNode().put("kind", "APIVersions");
      document.putArray("versions").add("v1");
      document.putArray("serverAddressByClientCIDRs");
    } else if (path.equals("/apis")) {
      document = groups();
    } else if (path.startsWith("/openapi/")) {
      return openApi.answer(path);
    } else if (path.equals("/version")) {
      document = ObjectStore.JSON.createObjectNode().put("major", "1").put("minor", "31").put("gitVersion", "v1.31.0")
          .put("platform", "linux/amd64");
    } else if (request.group() != null && request.resource() == null) {
      document = resources(request.group(), request.version());
      if (document == null) {
        return Optional.of(new ApiException(404, "NotFound", "the server could not find the requested resource")
            .toResponse());
      }
    } else {
      return Optional.empty();
    }
    return Optional.of(new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
        .setBody(document.toString()));
  }

  private ObjectNode groups() {
    Map<String, Set<String>> versions = new LinkedHashMap<>();
    types().stream().filter(type -> !type.group().isEmpty())
        .forEach(type -> versions.computeIfAbsent(type.group(), g -> new LinkedHashSet<>()).add(type.version()));
    ObjectNode list = ObjectStore.JSON.createObjectNode().put("kind", "APIGroupList").put("apiVersion", "v1");
    ArrayNode groups = list.putArray("groups");
    versions.forEach((group, served) -> {
      ObjectNode entry = groups.addObject().put("name", group);
      ArrayNode versionList = entry.putArray("versions");
      served.forEach(version -> versionList.addObject().put("groupVersion", group + "/" + version).put("version", version));
      String preferred = served.iterator().next();
      entry.putObject("preferredVersion").put("groupVersion", group + "/" + preferred).put("version", preferred);
    });
    return list;
  }

  private ObjectNode resources(String group, String version) {
    List<ResourceType> served = types().stream()
        .filter(type -> type.group().equals(group) && type.version().equals(version)).toList();
    if (served.isEmpty()) {
      return null;
    }
    ObjectNode list = ObjectStore.JSON.createObjectNode().put("kind", "APIResourceList").put("apiVersion", "v1")
        .put("groupVersion", served.get(0).groupVersion());
    ArrayNode resources = list.putArray("resources");
    for (ResourceType type : served) {
      ObjectNode entry = resources.addObject().put("name", type.plural()).put("singularName", type.singular())
          .put("namespaced", type.namespaced()).put("kind", type.kind());
      ArrayNode verbs = entry.putArray("verbs");
      VERBS.forEach(verbs::add);
      if (!type.shortNames().isEmpty()) {
        ArrayNode shortNames = entry.putArray("shortNames");
        type.shortNames().forEach(shortNames::add);
      }
      for (String subresource : type.subresources()) {
        ObjectNode sub = resources.addObject().put("name", type.plural() + "/" + subresource).put("singularName", "")
            .put("namespaced", type.namespaced()).put("kind", subresource.equals("scale") ? "Scale" : type.kind());
        sub.putArray("verbs").add("get").add("patch").add("update");
      }
    }
    return list;
  }
}
