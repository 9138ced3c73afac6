package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.Task;
import io.taskmesh.taskservice.api.TaskResponse;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The correlation id reaches the app as gRPC metadata: one id ties the user's report to the app's logs. */
class GatewayCorrelationTest {
  private static final Metadata.Key<String> CORRELATION =
      Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void theAppReceivesTheCorrelationIdTheClientSentOrTheOneTheGatewayGenerated(@TempDir Path directory)
      throws Exception {
    List<String> seenByApp = new CopyOnWriteArrayList<>();
    Server app = recordingTaskService(seenByApp);
    try (MeshFixture mesh = new MeshFixture()) {
      mesh.closeLater(() -> app.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
      Sidecar gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
          "{requestsPerMinute: 1000}", app.getPort());
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());

      HttpResponse<String> sent = http.send(http.request("GET", "/api/tasks/t1", null)
          .header("x-correlation-id", "ticket-42"));
      HttpResponse<String> generated = http.send("GET", "/api/tasks/t2", null);

      assertThat(sent.statusCode()).isEqualTo(200);
      String generatedId = generated.headers().firstValue("x-correlation-id").orElseThrow();
      assertThat(seenByApp).containsExactly("ticket-42", generatedId);
    }
  }

  private static Server recordingTaskService(List<String> seen) throws IOException {
    TaskServiceGrpc.TaskServiceImplBase service = new TaskServiceGrpc.TaskServiceImplBase() {
      @Override
      public void getTask(GetTaskRequest request, StreamObserver<TaskResponse> response) {
        response.onNext(TaskResponse.newBuilder().setTask(Task.newBuilder().setId(request.getId())).build());
        response.onCompleted();
      }
    };
    ServerInterceptor recorder = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        seen.add(String.valueOf(headers.get(CORRELATION)));
        return next.startCall(call, headers);
      }
    };
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(service, recorder))
        .build()
        .start();
  }
}
