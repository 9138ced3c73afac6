package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.support.GatewayFixture;
import io.taskmesh.sidecar.support.HttpJsonClient;
import io.taskmesh.sidecar.support.MeshFixture;
import io.taskmesh.taskservice.api.GetTaskRequest;
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
import org.slf4j.LoggerFactory;

/**
 * The correlation id reaches the app as gRPC metadata ({@code x-correlation-id}), from a transcoded HTTP request
 * and from a plain gRPC call alike, and is in the gateway's access log: one id ties the user's report to the
 * logs on both sides.
 */
class GatewayCorrelationTest {
  private static final Metadata.Key<String> CORRELATION =
      Metadata.Key.of("x-correlation-id", Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void theAppReceivesTheCorrelationIdTheClientSentOrTheOneTheGatewayGenerated(@TempDir Path directory)
      throws Exception {
    List<String> seenByApp = new CopyOnWriteArrayList<>();
    Logger accessLogger = (Logger) LoggerFactory.getLogger("io.taskmesh.gateway.access");
    ListAppender<ILoggingEvent> accessLog = new ListAppender<>();
    accessLog.start();
    accessLogger.addAppender(accessLog);
    Server app = recordingTaskService(seenByApp);
    try (MeshFixture mesh = new MeshFixture()) {
      mesh.closeLater(() -> app.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
      Sidecar gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
          "{requestsPerMinute: 1000}", app.getPort());
      HttpJsonClient http = new HttpJsonClient(gateway.gatewayPort());

      HttpResponse<String> sent = http.send(http.request("GET", "/api/tasks/1", null)
          .header("x-correlation-id", "ticket-42"));
      HttpResponse<String> generated = http.send("GET", "/api/tasks/2", null);

      assertThat(sent.statusCode()).isEqualTo(200);
      String generatedId = generated.headers().firstValue("x-correlation-id").orElseThrow();
      assertThat(seenByApp).containsExactly("ticket-42", generatedId);
      assertThat(accessLog.list).extracting(ILoggingEvent::getFormattedMessage)
          .anySatisfy(line -> assertThat(line).startsWith("correlation_id=ticket-42 ").contains("status=200"))
          .anySatisfy(line -> assertThat(line).startsWith("correlation_id=" + generatedId + " "));
    } finally {
      accessLogger.detachAppender(accessLog);
    }
  }

  @Test
  void aPlainGrpcCallThroughTheGatewayPortReachesTheAppWithTheCallersCorrelationIdOrANewOne(@TempDir Path directory)
      throws Exception {
    List<String> seenByApp = new CopyOnWriteArrayList<>();
    Server app = recordingTaskService(seenByApp);
    try (MeshFixture mesh = new MeshFixture()) {
      mesh.closeLater(() -> app.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
      Sidecar gateway = GatewayFixture.gateway(mesh, GatewayFixture.writeTaskDescriptorSet(directory),
          "{requestsPerMinute: 1000}", app.getPort());
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.gatewayPort()).usePlaintext().build();
      mesh.closeLater(() -> channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
      Metadata sent = new Metadata();
      sent.put(CORRELATION, "grpc-ticket-7");
      TaskServiceGrpc.TaskServiceBlockingStub stub = TaskServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS);

      stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(sent))
          .getTask(GetTaskRequest.newBuilder().setId(1).build());
      stub.getTask(GetTaskRequest.newBuilder().setId(2).build());

      assertThat(seenByApp).hasSize(2);
      assertThat(seenByApp.get(0)).isEqualTo("grpc-ticket-7");
      assertThat(seenByApp.get(1)).as("made by the gateway").matches("[0-9a-f-]{36}");
    }
  }

  private static Server recordingTaskService(List<String> seen) throws IOException {
    TaskServiceGrpc.TaskServiceImplBase service = new TaskServiceGrpc.TaskServiceImplBase() {
      @Override
      public void getTask(GetTaskRequest request, StreamObserver<TaskResponse> response) {
        response.onNext(TaskResponse.newBuilder().setId(request.getId()).build());
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
