package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;

/** A refusal the API server answers with a {@code Status} object, as a real one does. */
final class ApiException extends RuntimeException {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final int code;
  private final String reason;

  ApiException(int code, String reason, String message) {
    super(message);
    this.code = code;
    this.reason = reason;
  }

  static ApiException invalid(String kind, String name, String message) {
    return new ApiException(422, "Invalid", kind + " \"" + name + "\" is invalid: " + message);
  }

  MockResponse toResponse() {
    ObjectNode status = JSON.createObjectNode().put("kind", "Status").put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure").put("message", getMessage()).put("reason", reason).put("code", code);
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json")
        .setBody(status.toString());
  }
}
