package io.taskmesh.sidecar.support;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.TimeUnit;

/** Unary calls to method paths the task-service does not have, as a scanner or a buggy client makes them. */
public final class BogusCalls {
  private BogusCalls() {}

  /** Calls {@code fullMethodName} (e.g. {@code taskservice.TaskService/Made1}) once; the status it ended with. */
  public static Status.Code call(int port, String fullMethodName) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).overrideAuthority(MeshFixture.SERVICE)
        .usePlaintext().build();
    try {
      MethodDescriptor<byte[], byte[]> bogus = MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(fullMethodName)
          .setRequestMarshaller(RawBytesMarshaller.INSTANCE).setResponseMarshaller(RawBytesMarshaller.INSTANCE).build();
      ClientCalls.blockingUnaryCall(channel, bogus, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
          new byte[0]);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * Waits until the server sidecar at {@code inboundPort} knows its app's methods: a bogus call is then counted
   * as {@code unknown}.
   */
  public static void awaitAppMethodsLearnt(int inboundPort, AdminClient admin) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
      call(inboundPort, "taskservice.TaskService/Primer");
      return admin.metricSum("taskmesh_requests_total", "direction=\"inbound\"", "method=\"unknown\"") > 0;
    });
  }
}
