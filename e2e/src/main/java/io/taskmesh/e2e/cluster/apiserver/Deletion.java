package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

/**
 * Deletion as the API server does it, where the mock would remove the object at once: an object with
 * finalizers only gets a {@code deletionTimestamp} and is removed when its last finalizer is; a running pod is
 * deleted gracefully - {@code deletionTimestamp} and {@code deletionGracePeriodSeconds} are set and the kubelet,
 * once the containers have stopped, deletes it with grace period 0.
 */
final class Deletion {
  private final ObjectStore store;
  private final Clock clock;

  Deletion(ObjectStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  MockResponse delete(ApiRequest api, RecordedRequest request) {
    if (api.name() == null || api.subresource() != null) {
      return store.crud().dispatch(request);
    }
    Optional<ObjectNode> stored = store.get(api.objectPath(api.name()));
    if (stored.isEmpty()) {
      return store.crud().dispatch(request);
    }
    ObjectNode object = stored.get();
    ObjectNode metadata = object.withObjectProperty("metadata");
    boolean finalizers = metadata.path("finalizers").size() > 0;
    Long grace = api.resource().equals("pods") && api.group().isEmpty() ? podGrace(api, request, object) : null;
    if (!finalizers && (grace == null || grace == 0)) {
      return store.crud().dispatch(request);
    }
    if (metadata.hasNonNull("deletionTimestamp")
        && (grace == null || grace >= metadata.path("deletionGracePeriodSeconds").asLong(Long.MAX_VALUE))) {
      return ok(object);
    }
    metadata.put("deletionTimestamp", clock.instant().plusSeconds(grace == null ? 0 : grace)
        .truncatedTo(ChronoUnit.SECONDS).toString());
    metadata.put("deletionGracePeriodSeconds", grace == null ? 0 : grace);
    MockResponse response = store.crud().dispatch(put(request, object));
    return response.code() == 200 ? ok(object) : response;
  }

  /** After an update: an object being deleted whose last finalizer went is removed now. */
  MockResponse afterWrite(ApiRequest api, RecordedRequest request, MockResponse written) {
    if (written.code() != 200 || api.name() == null) {
      return written;
    }
    JsonNode object = ObjectStore.parse(ObjectStore.text(written.getBody()));
    JsonNode metadata = object.path("metadata");
    boolean pendingGrace = api.resource().equals("pods") && metadata.path("deletionGracePeriodSeconds").asLong(0) > 0;
    if (metadata.hasNonNull("deletionTimestamp") && metadata.path("finalizers").isEmpty() && !pendingGrace) {
      store.crud().dispatch(new RecordedRequest(request.getHttpVersion(), HttpMethod.DELETE,
          api.objectPath(api.name()), request.getHeaders(), new Buffer()));
    }
    return written;
  }

  private static Long podGrace(ApiRequest api, RecordedRequest request, JsonNode pod) {
    String phase = pod.at("/status/phase").asText("");
    if (phase.equals("Succeeded") || phase.equals("Failed")) {
      return 0L;
    }
    if (api.query().containsKey("gracePeriodSeconds")) {
      return Long.parseLong(api.query().get("gracePeriodSeconds"));
    }
    String body = ObjectStore.text(request.getBody());
    if (body != null && !body.isBlank()) {
      JsonNode options = ObjectStore.parse(body);
      if (options.has("gracePeriodSeconds")) {
        return options.get("gracePeriodSeconds").asLong();
      }
    }
    return pod.at("/spec/terminationGracePeriodSeconds").asLong(30);
  }

  private static RecordedRequest put(RecordedRequest original, ObjectNode object) {
    ApiRequest api = ApiRequest.parse(original.getMethod(), original.getPath());
    Headers headers = original.getHeaders().newBuilder().set("Content-Type", "application/json").build();
    return new RecordedRequest(original.getHttpVersion(), HttpMethod.PUT, api.objectPath(api.name()), headers,
        new Buffer(object.toString().getBytes(StandardCharsets.UTF_8)));
  }

  private static MockResponse ok(JsonNode object) {
    return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
        .setBody(object.toString());
  }
}
