package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.sidecar.support.RawHttp2Client;
import io.taskmesh.taskservice.client.TaskClient;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each kind of bad input gets a clear answer, and the proxy keeps serving everyone else. */
class BadInputTest {
  private final MeshFixture mesh = new MeshFixture();
  private Sidecar clientSide;
  private TaskClient client;

  @BeforeEach
  void startMesh() {
    Sidecar serverSide = mesh.serverSidecar(mesh.backend());
    clientSide = mesh.clientSidecar("P2C_EWMA", serverSide.inboundPort());
    client = mesh.clientThrough(clientSide);
    client.create("before", "", "low", 4); // the healthy connection stays open through the bad input
  }

  @AfterEach
  void stopMesh() throws Exception {
    mesh.close();
  }

  @Test
  void garbageBytesGetGoAwayNamingTheBadPreface() throws Exception {
    String answer;
    try (Socket socket = new Socket("127.0.0.1", clientSide.outboundPort())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write("\u0001\u0002 this is not HTTP at all, not even close\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      answer = readUntilClosed(socket.getInputStream());
    }
    assertThat(answer).contains("preface"); // GOAWAY(PROTOCOL_ERROR) debug data
    assertStillServing();
  }

  @Test
  void http11RequestToAGrpcRouteGets426WithABodySayingWhy() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + clientSide.outboundPort() + "/taskservice.TaskService/GetTask"))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(426);
    assertThat(response.body()).contains("client-sidecar").contains("HTTP/1.1").contains("HTTP/2");
    assertThat(response.headers().firstValue("taskmesh-error")).hasValueSatisfying(
        value -> assertThat(value).contains("reason=http1_not_supported"));
    assertStillServing();
  }

  @Test
  void aHeaderBlockOverTheLimitIsRefusedWithoutHarmingOtherCalls() throws Exception {
    Http2Headers oversized = new DefaultHttp2Headers().method("POST").scheme("http")
        .authority(MeshFixture.SERVICE).path("/taskservice.TaskService/GetTask");
    oversized.set("content-type", "application/grpc");
    // over the 16 KiB limit, under the 20 KiB at which Netty closes the whole connection
    oversized.set("x-big", "b".repeat(18 * 1024));

    try (RawHttp2Client raw = new RawHttp2Client(clientSide.outboundPort())) {
      Http2StreamFrame answer = raw.send(oversized);
      assertThat(answer).isInstanceOfSatisfying(Http2HeadersFrame.class,
          headers -> assertThat(headers.headers().status().toString()).isEqualTo("431"));
    }
    assertStillServing();
  }

  @Test
  void anUnknownServiceIsUnavailableWithAMessageNamingItAndTheHop() {
    TaskClient stranger = mesh.closeLater(TaskClient.connect(
        "127.0.0.1:" + clientSide.outboundPort(), "billing.prod.svc.cluster.local:8080", Duration.ofSeconds(30)));

    assertThatThrownBy(() -> stranger.get(1))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("client-sidecar").contains("billing.prod.svc.cluster.local:8080")
              .contains("no route");
          assertThat(e.getTrailers().get(Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER)))
              .contains("reason=no_route");
        });
    assertStillServing();
  }

  @Test
  void anEndpointThatRefusesConnectionsIsUnavailableNamingTheEndpoint() throws Exception {
    int closedPort;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = probe.getLocalPort();
    }
    Sidecar toNowhere = mesh.clientSidecar("ROUND_ROBIN", closedPort);

    assertThatThrownBy(() -> mesh.clientThrough(toNowhere).get(1))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("client-sidecar")
              .contains("endpoint 127.0.0.1:" + closedPort).contains("cannot connect");
          assertThat(e.getTrailers().get(Metadata.Key.of("taskmesh-error", Metadata.ASCII_STRING_MARSHALLER)))
              .contains("reason=connect_failed");
        });
    assertStillServing();
  }

  private void assertStillServing() {
    assertThat(client.create("after", "", "low", 4).getTitle()).isEqualTo("after");
    TaskClient fresh = mesh.clientThrough(clientSide);
    assertThat(fresh.create("fresh connection", "", "low", 4).getTitle()).isEqualTo("fresh connection");
  }

  private static String readUntilClosed(InputStream in) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    for (int n; (n = in.read(buffer)) > 0; ) {
      bytes.write(buffer, 0, n);
    }
    return bytes.toString(StandardCharsets.ISO_8859_1);
  }
}
