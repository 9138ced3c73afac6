package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/** Objects are only created in namespaces that exist, as the NamespaceLifecycle admission plug-in enforces. */
final class NamespaceLifecycle implements Admission {
  private final ObjectStore store;

  NamespaceLifecycle(ObjectStore store) {
    this.store = store;
  }

  @Override
  public ObjectNode admit(ApiRequest request, ObjectNode object, Optional<ObjectNode> old, Warnings warnings) {
    if (request.method().equals("POST") && request.namespace() != null
        && store.get("/api/v1/namespaces/" + request.namespace()).isEmpty()) {
      throw new ApiException(404, "NotFound", "namespaces \"" + request.namespace() + "\" not found");
    }
    return object;
  }
}
