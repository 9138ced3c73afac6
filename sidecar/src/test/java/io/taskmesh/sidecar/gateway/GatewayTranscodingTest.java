package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.taskmesh.config.GatewayConfig;
import io.taskmesh.config.GatewayRoute;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.AdminClient;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawHttp2Client;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskSubscriptionRequest;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import io.taskmesh.taskservice.client.TaskClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * curl-style HTTP/JSON → gateway (descriptors from the build's descriptor-set file) → server sidecar →
 * task-service, all real, over loopback.
 */
class GatewayTranscodingTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MeshFixture mesh = new MeshFixture();
  private TaskServer backend;
  private Sidecar gateway;
  private HttpJsonClient http;

  @BeforeEach
  void startMesh(@TempDir Path directory) {
    backend = mesh.backend();
    Sidecar serverSide = mesh.serverSidecar(backend);
    gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
        "{requestsPerMinute: 100000}", serverSide.inboundPort());
    http = new HttpJsonClient(gateway.gatewayPort());
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void everyUnaryRpcAndTheListWorkAsHttpJson() throws Exception {
    HttpResponse<String> created = http.send("POST", "/api/tasks",
        "{\"title\": \"write report\", \"description\": \"quarterly\", \"priority\": \"high\", \"user_id\": 1,"
            + " \"project_id\": 3}");
    assertThat(created.statusCode()).isEqualTo(200);
    assertThat(created.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode task = JSON.readTree(created.body());
    assertThat(task.get("id").isInt()).as("ids are JSON numbers").isTrue();
    String id = task.get("id").asText();
    assertThat(task.get("status").asText()).isEqualTo("todo");
    assertThat(task.get("user_id").asInt()).isEqualTo(1);
    assertThat(task.get("project_id").asInt()).isEqualTo(3);
    assertThat(task.get("created_at").asText()).isEqualTo(task.get("updated_at").asText()).isNotEmpty();

    HttpResponse<String> got = http.send("GET", "/api/tasks/" + id, null);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(got.body()).at("/title").asText()).isEqualTo("write report");

    HttpResponse<String> patched = http.send("PATCH", "/api/tasks/" + id, "{\"status\": \"in_progress\"}");
    assertThat(patched.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(patched.body()).at("/status").asText()).isEqualTo("in_progress");
    assertThat(JSON.readTree(patched.body()).at("/title").asText()).isEqualTo("write report");

    HttpResponse<String> put = http.send("PUT", "/api/tasks/" + id, "{\"title\": \"write the report\"}");
    assertThat(JSON.readTree(put.body()).at("/title").asText()).isEqualTo("write the report");

    http.send("POST", "/api/tasks", "{\"title\": \"second\", \"userId\": \"1\"}");
    http.send("POST", "/api/tasks", "{\"title\": \"someone else's\", \"user_id\": 2}");
    HttpResponse<String> listed = http.send("GET", "/api/tasks?user_id=1&status=todo&limit=10", null);
    assertThat(listed.statusCode()).isEqualTo(200);
    assertThat(listed.headers().firstValue("content-type")).hasValue("application/x-ndjson");
    assertThat(listed.body().lines().map(line -> readTree(line).at("/title").asText()))
        .containsExactly("second");
    assertThat(http.send("GET", "/api/tasks?user_id=1&limit=1&offset=1", null).body().lines()
        .map(line -> readTree(line).at("/title").asText())).containsExactly("second");

    HttpResponse<String> deleted = http.send("DELETE", "/api/tasks/" + id, null);
    assertThat(deleted.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(deleted.body()).get("success").asBoolean()).isTrue();
    assertThat(http.send("GET", "/api/tasks/" + id, null).statusCode()).isEqualTo(404);
  }

  @Test
  void aServerStreamIsReadAsNdjson() throws Exception {
    CompletableFuture<HttpResponse<Stream<String>>> watch =
        http.stream(http.request("GET", "/api/tasks:watch?user_id=1", null));
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);
    http.send("POST", "/api/tasks", "{\"title\": \"watched\", \"user_id\": 1}");

    HttpResponse<Stream<String>> response = watch.get(30, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/x-ndjson");
    Iterator<String> lines = response.body().iterator();
    JsonNode event = readTree(lines.next());
    assertThat(event.get("event_type").asText()).isEqualTo("created");
    assertThat(event.at("/task/title").asText()).isEqualTo("watched");
    response.body().close();
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 0);
  }

  @Test
  void aServerStreamIsReadAsServerSentEventsWhenAsked() throws Exception {
    CompletableFuture<HttpResponse<Stream<String>>> watch = http.stream(
        http.request("GET", "/api/tasks:watch?user_id=3", null).header("accept", "text/event-stream"));
    await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);
    http.send("POST", "/api/tasks", "{\"title\": \"first\", \"user_id\": 3}");
    http.send("POST", "/api/tasks", "{\"title\": \"second\", \"user_id\": 3}");

    HttpResponse<Stream<String>> response = watch.get(30, TimeUnit.SECONDS);
    assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream");
    Iterator<String> lines = response.body().iterator();
    assertThat(lines.next()).startsWith("data: {").contains("\"title\":\"first\"");
    assertThat(lines.next()).isEmpty();
    assertThat(lines.next()).startsWith("data: {").contains("\"title\":\"second\"");
    response.body().close();
  }

  @Test
  void aPlainGrpcCallPassesThroughTheGatewayPort() {
    try (TaskClient grpc = TaskClient.connect("127.0.0.1:" + gateway.gatewayPort(), "gateway.example.com",
        Duration.ofSeconds(10))) {
      TaskResponse created = grpc.create("by grpc", "", "low", 15);
      assertThat(grpc.get(created.getId()).getTitle()).isEqualTo("by grpc");
    }
    assertThat(new AdminClient(gateway.adminPort()).metricSum("taskmesh_requests_total",
        "direction=\"gateway\"", "code=\"OK\"", "method=\"/taskservice.TaskService/GetTask\"")).isEqualTo(1.0);
  }

  @Test
  void httpJsonOverHttp2PriorKnowledgeIsTranscodedToo() throws Exception {
    String id = JSON.readTree(http.send("POST", "/api/tasks", "{\"title\": \"h2\", \"user_id\": 4}").body())
        .at("/id").asText();
    try (RawHttp2Client h2 = new RawHttp2Client(gateway.gatewayPort())) {
      Http2HeadersFrame found = (Http2HeadersFrame) h2.send(new DefaultHttp2Headers().method("GET").scheme("http")
          .authority("gateway.example.com").path("/api/tasks/" + id).set("x-correlation-id", "h2-call"));
      assertThat(found.headers().status().toString()).isEqualTo("200");
      assertThat(found.headers().get("content-type").toString()).isEqualTo("application/json");
      assertThat(found.headers().get("x-correlation-id").toString()).isEqualTo("h2-call");

      Http2HeadersFrame missing = (Http2HeadersFrame) h2.send(new DefaultHttp2Headers().method("GET").scheme("http")
          .authority("gateway.example.com").path("/api/tasks/999999"));
      assertThat(missing.headers().status().toString()).isEqualTo("404");
    }
  }

  @Test
  void aPlainGrpcServerStreamPassesThroughTheGatewayPortAndItsCancelReachesTheApp() {
    try (TaskClient grpc = TaskClient.connect("127.0.0.1:" + gateway.gatewayPort(), "gateway.example.com",
        Duration.ofSeconds(10))) {
      List<TaskUpdateEvent> events = new CopyOnWriteArrayList<>();
      TaskClient.Subscription subscription = grpc.subscribe(
          TaskSubscriptionRequest.newBuilder().setUserId(5).build(), events::add, status -> { });
      await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 1);
      http.send("POST", "/api/tasks", "{\"title\": \"seen by grpc\", \"user_id\": 5}");
      await().atMost(Duration.ofSeconds(30)).until(() -> events.size() == 1);
      assertThat(events.get(0).getTask().getTitle()).isEqualTo("seen by grpc");

      subscription.cancel();
      await().atMost(Duration.ofSeconds(30)).until(() -> backend.subscriberCount() == 0);
    }
  }

  @Test
  void badJsonIsA400NamingWhatIsWrong() throws Exception {
    HttpResponse<String> malformed = http.send("POST", "/api/tasks", "{\"title\": ");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(malformed.body()).get("code").asText()).isEqualTo("INVALID_ARGUMENT");
    assertThat(JSON.readTree(malformed.body()).get("message").asText()).startsWith("malformed JSON");

    HttpResponse<String> unknown = http.send("POST", "/api/tasks", "{\"title\": \"t\", \"colour\": \"red\"}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(unknown.body()).get("message").asText()).contains("'colour'");

    HttpResponse<String> wrongType = http.send("POST", "/api/tasks", "{\"title\": {\"nested\": true}}");
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(wrongType.body()).get("message").asText()).contains("'title'");

    HttpResponse<String> wrongQueryType = http.send("GET", "/api/tasks?limit=many", null);
    assertThat(wrongQueryType.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(wrongQueryType.body()).get("message").asText()).contains("'limit'");

    HttpResponse<String> unknownQuery = http.send("GET", "/api/tasks?owner=1", null);
    assertThat(unknownQuery.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(unknownQuery.body()).get("message").asText()).contains("'owner'");

    HttpResponse<String> notAnObject = http.send("POST", "/api/tasks", "[1, 2]");
    assertThat(notAnObject.statusCode()).isEqualTo(400);
    assertThat(notAnObject.headers().firstValue("taskmesh-error")).hasValueSatisfying(
        value -> assertThat(value).contains("hop=gateway").contains("reason=bad_request"));
  }

  @Test
  void appStatusesBecomeHttpStatusesWithAJsonBody() throws Exception {
    HttpResponse<String> missing = http.send("GET", "/api/tasks/999999", null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode body = JSON.readTree(missing.body());
    assertThat(body.get("code").asText()).isEqualTo("NOT_FOUND");
    assertThat(body.get("message").asText()).isEqualTo("task 999999 not found");

    HttpResponse<String> invalid = http.send("POST", "/api/tasks", "{\"title\": \"\", \"user_id\": 1}");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(invalid.body()).get("code").asText()).isEqualTo("INVALID_ARGUMENT");
    assertThat(JSON.readTree(invalid.body()).get("message").asText()).contains("title");

    HttpResponse<String> wrongMethod = http.send("POST", "/api/tasks/7", "{}");
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("allow")).hasValue("DELETE, GET, PATCH, PUT");

    assertThat(http.send("GET", "/elsewhere", null).statusCode()).isEqualTo(404);
  }

  @Test
  void theCorrelationIdIsKeptWhenSentAndGeneratedWhenMissing() throws Exception {
    HttpResponse<String> sent = http.send(http.request("GET", "/api/tasks/999999", null)
        .header("x-correlation-id", "support-ticket-4711"));
    assertThat(sent.headers().firstValue("x-correlation-id")).hasValue("support-ticket-4711");
    assertThat(JSON.readTree(sent.body()).get("correlationId").asText()).isEqualTo("support-ticket-4711");

    HttpResponse<String> requestId = http.send(http.request("GET", "/api/tasks?user_id=1&limit=1", null)
        .header("x-request-id", "req-1"));
    assertThat(requestId.headers().firstValue("x-correlation-id")).hasValue("req-1");

    HttpResponse<String> malformed = http.send(http.request("GET", "/api/tasks?user_id=1&limit=1", null)
        .header("x-correlation-id", "has spaces and {braces}"));
    HttpResponse<String> missing = http.send("GET", "/api/tasks?user_id=1&limit=1", null);
    for (HttpResponse<String> generated : List.of(malformed, missing)) {
      assertThat(generated.headers().firstValue("x-correlation-id")).hasValueSatisfying(
          id -> assertThat(id).matches("[0-9a-f-]{36}"));
    }
  }

  @Test
  void metricsCountGatewayRequestsByServiceMethodAndHttpStatusAndTheStatusPageListsRoutes() throws Exception {
    http.send("GET", "/api/tasks/999999", null);
    http.send("GET", "/api/tasks?user_id=1&limit=1", null);
    http.send("GET", "/random-1", null);
    http.send("GET", "/random-2", null);
    AdminClient admin = new AdminClient(gateway.adminPort());
    assertThat(admin.metricSum("taskmesh_requests_total", "direction=\"gateway\"", "service=\"none\"",
        "method=\"none\"", "code=\"404\"")).isEqualTo(2.0);
    assertThat(admin.metricSum("taskmesh_requests_total", "direction=\"gateway\"", "service=\"task-service\"",
        "method=\"/taskservice.TaskService/GetTask\"", "code=\"404\"")).isEqualTo(1.0);
    assertThat(admin.metricSum("taskmesh_requests_total", "direction=\"gateway\"",
        "method=\"/taskservice.TaskService/ListTasks\"", "code=\"200\"")).isEqualTo(1.0);

    JsonNode status = JSON.readTree(admin.get("/gateway").body());
    JsonNode route = status.get("routes").get(0);
    assertThat(route.get("pathPrefix").asText()).isEqualTo("/taskservice.TaskService/");
    assertThat(route.get("service").asText()).isEqualTo("task-service");
    assertThat(route.get("healthyEndpoints").asInt()).isEqualTo(1);
    assertThat(route.get("circuit").asText()).isEqualTo("CLOSED");
    assertThat(admin.get("/health").statusCode()).isEqualTo(200);
    assertThat(admin.get("/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void reloadedRoutesApplyToTheNextRequest() throws Exception {
    assertThat(http.send("GET", "/api/tasks/999999", null).statusCode()).isEqualTo(404);
    MeshConfig old = gateway.config();
    GatewayConfig rerouted = old.gateway().withRoutes(List.of(new GatewayRoute("/v2/tasks", null, MeshFixture.SERVICE, true)));
    gateway.apply(new MeshConfig(old.service(), old.namespace(), old.inbound(), old.outbound(), old.tracing(),
        old.admin(), old.drain(), rerouted));

    HttpResponse<String> unrouted = http.send("GET", "/api/tasks/x", null);
    assertThat(unrouted.statusCode()).isEqualTo(404);
    assertThat(unrouted.headers().firstValue("taskmesh-error")).hasValueSatisfying(
        value -> assertThat(value).contains("reason=no_route"));
    assertThat(JSON.readTree(unrouted.body()).get("message").asText()).isEqualTo("no gateway route for /api/tasks/x");
  }

  private static JsonNode readTree(String json) {
    try {
      return JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
