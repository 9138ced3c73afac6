package io.taskmesh.sidecar.gateway;

import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * gRPC calls the gateway makes on behalf of HTTP clients. They all go over one channel to this proxy's own
 * outbound listener with {@code :authority} set to the routed service, so routing, discovery, circuit
 * breaking, deadlines and whatever else the outbound chain does apply to them unchanged.
 */
final class UpstreamCalls implements AutoCloseable {
  private final ManagedChannel channel;
  private final Map<Descriptors.MethodDescriptor, MethodDescriptor<DynamicMessage, DynamicMessage>> methods =
      new ConcurrentHashMap<>();

  UpstreamCalls(int outboundPort) {
    this.channel = Grpc.newChannelBuilderForAddress("127.0.0.1", outboundPort, InsecureChannelCredentials.create())
        .build();
  }

  /**
   * A new call of {@code rpc} on {@code service}; start it with {@link #send}.
   *
   * @param timeout null for none; else sent as {@code grpc-timeout}, so the mesh enforces it hop by hop
   */
  ClientCall<DynamicMessage, DynamicMessage> newCall(String service, Descriptors.MethodDescriptor rpc,
      Duration timeout) {
    CallOptions options = CallOptions.DEFAULT.withAuthority(service);
    if (timeout != null) {
      options = options.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    return channel.newCall(methods.computeIfAbsent(rpc, UpstreamCalls::grpcMethod), options);
  }

  /** Starts {@code call} with its one request message; the listener gets one response message at a time. */
  static void send(ClientCall<DynamicMessage, DynamicMessage> call, ClientCall.Listener<DynamicMessage> listener,
      Metadata headers, DynamicMessage request) {
    call.start(listener, headers);
    call.sendMessage(request);
    call.halfClose();
    call.request(1);
  }

  private static MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod(Descriptors.MethodDescriptor rpc) {
    return MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
        .setType(rpc.isServerStreaming() ? MethodDescriptor.MethodType.SERVER_STREAMING : MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(rpc.getService().getFullName(), rpc.getName()))
        .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(rpc.getInputType())))
        .setResponseMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(rpc.getOutputType())))
        .build();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
