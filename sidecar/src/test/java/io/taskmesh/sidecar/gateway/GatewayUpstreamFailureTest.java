package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failures the mesh answers for (not the app) reach the HTTP caller with their status and who failed. */
class GatewayUpstreamFailureTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anUnreachableServiceIs503NamingTheHopThatFailed(@TempDir Path directory) throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    try (MeshFixture mesh = new MeshFixture()) {
      Sidecar gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
          "{requestsPerMinute: 1000}", closedPort);

      HttpResponse<String> response = new HttpJsonClient(gateway.gatewayPort()).send("GET", "/api/tasks/1", null);

      assertThat(response.statusCode()).isEqualTo(503);
      JsonNode body = JSON.readTree(response.body());
      assertThat(body.get("code").asText()).isEqualTo("UNAVAILABLE");
      assertThat(body.get("message").asText()).startsWith("client-sidecar: service 'task-service'");
      assertThat(response.headers().firstValue("taskmesh-error")).hasValueSatisfying(
          value -> assertThat(value).contains("hop=client-sidecar"));
    }
  }

  @Test
  void aUnaryCallOverTheServicesTimeoutIs504(@TempDir Path directory) throws Exception {
    Server silentApp = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new TaskServiceGrpc.TaskServiceImplBase() {
          @Override
          public void getTask(GetTaskRequest request, StreamObserver<TaskResponse> response) {
            // never answers
          }
        })
        .build()
        .start();
    try (MeshFixture mesh = new MeshFixture()) {
      mesh.closeLater(() -> silentApp.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
      Sidecar gateway = mesh.sidecar(MeshConfigParser.parse(GatewayFixture.yaml(
          GatewayFixture.writeTaskDescriptorSet(directory), "{requestsPerMinute: 1000}", "{timeout: 300ms}",
          silentApp.getPort())));

      HttpResponse<String> response = new HttpJsonClient(gateway.gatewayPort()).send("GET", "/api/tasks/1", null);

      assertThat(response.statusCode()).isEqualTo(504);
      assertThat(JSON.readTree(response.body()).get("code").asText()).isEqualTo("DEADLINE_EXCEEDED");
    }
  }
}
