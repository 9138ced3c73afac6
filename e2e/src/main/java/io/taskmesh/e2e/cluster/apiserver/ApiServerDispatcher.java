package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request path of the local API server in front of the mock's storage: discovery documents, patches
 * applied here (the mock's merge patch appends to lists) and stored as updates, the admission steps of each
 * type (defaults, service IPs, the CRD schema, mutating webhooks) on every write, and Table responses for
 * {@code kubectl get}.
 */
final class ApiServerDispatcher extends Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(ApiServerDispatcher.class);
  private static final int PATCH_ATTEMPTS = 5;
  private static final String NAME_LETTERS = "bcdfghjklmnpqrstvwxz2456789";

  private final java.security.SecureRandom random = new java.security.SecureRandom();

  private final ObjectStore store;
  private final Discovery discovery;
  private final Tables tables;
  /** (group, resource) → the admission steps of its writes, in order. */
  private final Map<List<String>, List<Admission>> admission;
  private final CustomResourceSchemas schemas;
  private final NamespaceLifecycle lifecycle;
  private final Deletion deletion;
  private final RulesReviews rulesReviews;
  private final TokenRequests tokenRequests;
  private final TokenReviews tokenReviews;

  ApiServerDispatcher(ObjectStore store, Discovery discovery, Tables tables, CustomResourceSchemas schemas,
      Map<List<String>, List<Admission>> admission, NamespaceLifecycle lifecycle, Deletion deletion,
      ServiceAccountTokens tokens) {
    this.lifecycle = lifecycle;
    this.deletion = deletion;
    this.rulesReviews = new RulesReviews(store);
    this.tokenRequests = new TokenRequests(store, tokens);
    this.tokenReviews = new TokenReviews(store, tokens);
    this.store = store;
    this.discovery = discovery;
    this.tables = tables;
    this.schemas = schemas;
    this.admission = admission;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    ApiRequest api = ApiRequest.parse(request.getMethod(), request.getPath());
    try {
      Optional<MockResponse> document = discovery.answer(api);
      if (document.isPresent()) {
        return document.get();
      }
      if (!api.isResource()) {
        return store.crud().dispatch(request);
      }
      if (api.method().equals("POST")) {
        Optional<MockResponse> answer = answerWithoutStoring(api, ObjectStore.parse(ObjectStore.text(request.getBody())));
        if (answer.isPresent()) {
          return answer.get();
        }
      }
      return switch (api.method()) {
        case "POST", "PUT" -> write(api, request, ObjectStore.parse(ObjectStore.text(request.getBody())));
        case "PATCH" -> patch(api, request);
        case "GET" -> tables.render(api, request, store.crud().dispatch(request));
        case "DELETE" -> deletion.delete(api, request);
        default -> store.crud().dispatch(request);
      };
    } catch (ApiException e) {
      return e.toResponse();
    } catch (RuntimeException e) {
      log.warn("event=apiserver_request_failed request=\"{} {}\"", request.getMethod(), request.getPath(), e);
      return new ApiException(500, "InternalError", e.toString()).toResponse();
    }
  }

  /** The reviews and token requests: created objects the API server answers and never stores. */
  private Optional<MockResponse> answerWithoutStoring(ApiRequest api, JsonNode body) {
    return rulesReviews.answer(api, body).or(() -> tokenReviews.answer(api, body))
        .or(() -> tokenRequests.answer(api, body));
  }

  private MockResponse write(ApiRequest api, RecordedRequest request, JsonNode body) {
    if (!body.isObject()) {
      throw new ApiException(400, "BadRequest", "the request body is not an object");
    }
    ObjectNode object = (ObjectNode) body;
    Optional<ObjectNode> old = api.method().equals("POST") ? Optional.empty()
        : store.get(api.objectPath(api.name()));
    Warnings warnings = new Warnings();
    for (Admission step : steps(api)) {
      object = step.admit(api, object, old, warnings);
    }
    MockResponse response;
    if (api.method().equals("POST") && !object.path("metadata").hasNonNull("name")
        && object.path("metadata").hasNonNull("generateName")) {
      response = createWithGeneratedName(request, object);
    } else {
      response = deletion.afterWrite(api, request, store.crud().dispatch(forward(request, api.method(), object)));
    }
    warnings.headers().forEach(warning -> response.addHeader("Warning", warning));
    return response;
  }

  /** A patch is applied here to the stored object and stored as an update, retried if the object moved on. */
  private MockResponse patch(ApiRequest api, RecordedRequest request) {
    JsonNode patch = ObjectStore.parse(ObjectStore.text(request.getBody()));
    boolean customResource = schemas.definition(api.group(), api.resource()).isPresent();
    MockResponse response = null;
    for (int attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      ObjectNode current = store.get(api.objectPath(api.name())).orElseThrow(() -> new ApiException(404, "NotFound",
          api.resource() + " \"" + api.name() + "\" not found"));
      JsonNode patched = Patches.apply(request.getHeader("Content-Type"), patch, current, customResource);
      response = write(new ApiRequest("PUT", api.path(), api.query(), api.group(), api.version(), api.namespace(),
          api.resource(), api.name(), api.subresource()), request, patched);
      boolean patchNamesVersion = !patch.at("/metadata/resourceVersion").isMissingNode();
      if (response.code() != 409 || patchNamesVersion) {
        return response;
      }
    }
    return response;
  }

  /** generateName plus five random letters, as the API server names it; a taken name is drawn again. */
  private MockResponse createWithGeneratedName(RecordedRequest request, ObjectNode object) {
    MockResponse response = null;
    for (int attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      StringBuilder name = new StringBuilder(object.at("/metadata/generateName").asText());
      for (int i = 0; i < 5; i++) {
        name.append(NAME_LETTERS.charAt(random.nextInt(NAME_LETTERS.length())));
      }
      object.withObjectProperty("metadata").put("name", name.toString());
      response = store.crud().dispatch(forward(request, "POST", object));
      if (response.code() != 409) {
        return response;
      }
    }
    return response;
  }

  private List<Admission> steps(ApiRequest api) {
    List<Admission> steps = new ArrayList<>();
    steps.add(lifecycle);
    if (api.subresource() == null) {
      steps.addAll(admission.getOrDefault(List.of(api.group(), api.resource()), List.of()));
    }
    if (api.subresource() == null || api.subresource().equals("status")) {
      steps.add(schemas);
    }
    return steps;
  }

  private static RecordedRequest forward(RecordedRequest original, String method, ObjectNode body) {
    Headers headers = original.getHeaders().newBuilder().set("Content-Type", "application/json").build();
    return new RecordedRequest(original.getHttpVersion(), HttpMethod.valueOf(method), original.getPath(), headers,
        new Buffer(body.toString().getBytes(StandardCharsets.UTF_8)));
  }
}
