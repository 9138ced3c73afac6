package io.taskmesh.e2e.zipkin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Spans posted to a real Zipkin server come back from its query API and draw as a tree. */
class ZipkinRoundTripTest {
  private static ZipkinServer zipkin;

  @BeforeAll
  static void startZipkin() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Path log = Files.createTempFile("zipkin", ".log");
    zipkin = ZipkinServer.start(Path.of(System.getProperty("taskmesh.zipkin.jar")), port, log, Duration.ofSeconds(120));
  }

  @AfterAll
  static void stopZipkin() {
    if (zipkin != null) {
      zipkin.close();
    }
  }

  @Test
  void postedSpansComeBackAsOneTreeOfThreeHops() throws Exception {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String spans = """
        [{"traceId":"%1$s","id":"0000000000000001","name":"taskservice.TaskService/GetTask","kind":"CLIENT",
          "timestamp":1700000000000000,"duration":3000,"localEndpoint":{"serviceName":"client-sidecar"},
          "tags":{"taskmesh.direction":"outbound"}},
         {"traceId":"%1$s","id":"0000000000000002","parentId":"0000000000000001","name":"taskservice.TaskService/GetTask",
          "kind":"SERVER","timestamp":1700000000000500,"duration":2000,"localEndpoint":{"serviceName":"task-service-sidecar"},
          "tags":{"rpc.grpc.status_code":"0","taskmesh.direction":"inbound"}},
         {"traceId":"%1$s","id":"0000000000000003","parentId":"0000000000000002","name":"GetTask","kind":"SERVER",
          "timestamp":1700000000001000,"duration":1000,"localEndpoint":{"serviceName":"task-service"}}]
        """.formatted(traceId);
    HttpResponse<String> posted = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(zipkin.baseUri().resolve("/api/v2/spans"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(spans)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(posted.statusCode()).isEqualTo(202);

    ZipkinQuery query = new ZipkinQuery(zipkin.baseUri());
    await().atMost(Duration.ofSeconds(30)).until(() -> query.trace(traceId).size() == 3);
    List<Span> trace = query.trace(traceId);

    assertThat(TraceTree.services(trace)).containsExactly("client-sidecar", "task-service-sidecar", "task-service");
    assertThat(TraceTree.render(trace)).isEqualTo("""
        trace 4bf92f3577b34da6a3ce929d0e0e4736
        └─ client-sidecar sidecar CLIENT taskservice.taskservice/gettask  3.0 ms
           └─ task-service-sidecar sidecar SERVER taskservice.taskservice/gettask  2.0 ms  grpc-status=0
              └─ task-service app SERVER gettask  1.0 ms
        """);
    assertThat(query.trace("00000000000000000000000000000bad")).isEmpty();
  }
}
