package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawHttp2Client;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What HTTP clients must not be able to do to the gateway: each gets a clear 4xx, never a 500. */
class GatewayBadInputTest {
  private final MeshFixture mesh = new MeshFixture();
  private Sidecar gateway;
  private HttpJsonClient http;

  @BeforeEach
  void startMesh(@TempDir Path directory) {
    Sidecar serverSide = mesh.serverSidecar(mesh.backend());
    gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
        "{requestsPerMinute: 100000}", serverSide.inboundPort());
    http = new HttpJsonClient(gateway.gatewayPort());
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void aBodyOverTheLimitIs413() {
    String huge = "{\"title\": \"" + "x".repeat(gateway.config().gateway().maxRequestBodyBytes()) + "\"}";
    assertThat(http.send("POST", "/api/tasks", huge).statusCode()).isEqualTo(413);
  }

  @Test
  void headersOverTheLimitAre431() {
    HttpResponse<String> response = http.send(http.request("GET", "/api/tasks/1", null)
        .header("x-padding", "p".repeat(20_000)));
    assertThat(response.statusCode()).isEqualTo(431);
    assertThat(response.body()).contains("INVALID_ARGUMENT");
  }

  @Test
  void aBodyOnARequestWhoseRpcTakesNoneIs400() {
    HttpResponse<String> response = http.send("DELETE", "/api/tasks/1", "{\"id\": 2}");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("takes no request body");
  }

  @Test
  void aDescriptorFileThatCannotBeReadStopsTheStartNamingIt() {
    Path missing = Path.of("/nonexistent/descriptors.pb");
    assertThatThrownBy(() -> GatewayFixture.gateway(mesh, missing, "{requestsPerMinute: 10}", 1))
        .hasMessageContaining("gateway.descriptors.file " + missing);
  }

  @Test
  void aGrpcCallToAnUnroutedServiceIsAnsweredByTheGatewayWithNoRoute() throws Exception {
    try (RawHttp2Client h2 = new RawHttp2Client(gateway.gatewayPort())) {
      Http2HeadersFrame answer = (Http2HeadersFrame) h2.send(new DefaultHttp2Headers().method("POST").scheme("http")
          .authority("gw").path("/billing.Invoices/Get").set("content-type", "application/grpc").set("te", "trailers"),
          new byte[0]);
      assertThat(answer.headers().get("grpc-status").toString()).isEqualTo("14");
      assertThat(answer.headers().get("taskmesh-error").toString()).contains("hop=gateway").contains("reason=no_route");
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.gatewayPort())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET /api/tasks/424242 HTTP/1.1\r\nHost: gw\r\n\r\n"
          + "GET /elsewhere HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answers = new String(readAll(socket.getInputStream()), StandardCharsets.UTF_8);
      int first = answers.indexOf("task 424242 not found");
      int second = answers.indexOf("no gateway route for /elsewhere");
      assertThat(first).isNotNegative();
      assertThat(second).isGreaterThan(first);
    }
  }

  private static byte[] readAll(InputStream in) throws java.io.IOException {
    return in.readAllBytes(); // the second request asked the gateway to close the connection
  }
}
