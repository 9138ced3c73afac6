package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.MockResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads of the API server's storage (the mock's CRUD dispatcher) for the API server's own plug-ins. */
final class ObjectStore {
  static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesCrudDispatcher crud;

  ObjectStore(KubernetesCrudDispatcher crud) {
    this.crud = crud;
  }

  KubernetesCrudDispatcher crud() {
    return crud;
  }

  Optional<ObjectNode> get(String path) {
    MockResponse response = crud.handleGet(path);
    if (response.code() != 200) {
      return Optional.empty();
    }
    return Optional.of((ObjectNode) parse(text(response.getBody())));
  }

  /** Every item of a list path, e.g. {@code /api/v1/services}; none when the type is unknown. */
  List<ObjectNode> list(String path) {
    List<ObjectNode> items = new ArrayList<>();
    get(path).ifPresent(list -> list.path("items").forEach(item -> items.add((ObjectNode) item)));
    return items;
  }

  /** A body's text, without consuming it (the mock's Buffer reads are destructive). */
  static String text(Buffer body) {
    return body == null ? "" : new String(body.getBytes(), StandardCharsets.UTF_8);
  }

  static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "BadRequest", "the request body is not JSON: " + e.getOriginalMessage());
    }
  }
}
