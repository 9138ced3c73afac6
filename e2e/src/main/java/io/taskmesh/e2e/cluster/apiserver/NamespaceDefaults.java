package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * The label every namespace carries on a real cluster, {@code kubernetes.io/metadata.name}, which namespace
 * selectors (the webhook's among them) rely on.
 */
final class NamespaceDefaults implements Admission {
  @Override
  public ObjectNode admit(ApiRequest request, ObjectNode namespace, Optional<ObjectNode> old, Warnings warnings) {
    String name = namespace.at("/metadata/name").asText();
    namespace.withObjectProperty("metadata").withObjectProperty("labels").put("kubernetes.io/metadata.name", name);
    namespace.withObjectProperty("status").put("phase", "Active");
    return namespace;
  }
}
