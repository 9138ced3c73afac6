package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/** One step an object goes through between the request and storage; throws {@link ApiException} to refuse. */
interface Admission {
  /**
   * @param object what the request would store (for a patch, the patched object)
   * @param old what is stored now, for an update
   * @return the object to store, possibly changed
   */
  ObjectNode admit(ApiRequest request, ObjectNode object, Optional<ObjectNode> old, Warnings warnings);
}
