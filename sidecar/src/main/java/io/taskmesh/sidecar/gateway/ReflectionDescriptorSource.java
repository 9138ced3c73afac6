package io.taskmesh.sidecar.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Asks each routed service itself, by gRPC server reflection (v1) through the mesh, for its files: once,
 * then cached. A failed or invalidated lookup is forgotten, so the next request asks again.
 */
final class ReflectionDescriptorSource implements DescriptorSource {
  private final Channel channel;
  private final Duration timeout;
  private final Map<String, CompletableFuture<TranscodingTable>> tables = new ConcurrentHashMap<>();

  ReflectionDescriptorSource(Channel channel, Duration timeout) {
    this.channel = channel;
    this.timeout = timeout;
  }

  @Override
  public CompletableFuture<TranscodingTable> table(String service) {
    CompletableFuture<TranscodingTable> table = tables.computeIfAbsent(service, this::fetch);
    table.whenComplete((result, failure) -> {
      if (failure != null) {
        tables.remove(service, table);
      }
    });
    return table;
  }

  @Override
  public void invalidate(String service) {
    tables.remove(service);
  }

  private CompletableFuture<TranscodingTable> fetch(String service) {
    Lookup lookup = new Lookup(service);
    lookup.requests = ClientCalls.asyncBidiStreamingCall(
        channel.newCall(ServerReflectionGrpc.getServerReflectionInfoMethod(),
            CallOptions.DEFAULT.withAuthority(service).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)),
        lookup);
    lookup.send(ServerReflectionRequest.newBuilder().setListServices("*").build());
    return lookup.result;
  }

  /**
   * One reflection conversation: list the services, ask for the file of each, then for every imported file
   * not yet seen. Responses arrive one at a time, so the state needs no locking.
   */
  private static final class Lookup implements StreamObserver<ServerReflectionResponse> {
    private final String service;
    private final CompletableFuture<TranscodingTable> result = new CompletableFuture<>();
    private final Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
    private final Set<String> requested = new HashSet<>();
    private StreamObserver<ServerReflectionRequest> requests;
    private int outstanding;

    Lookup(String service) {
      this.service = service;
    }

    void send(ServerReflectionRequest request) {
      outstanding++;
      requests.onNext(request);
    }

    @Override
    public void onNext(ServerReflectionResponse response) {
      outstanding--;
      try {
        switch (response.getMessageResponseCase()) {
          case LIST_SERVICES_RESPONSE -> {
            for (ServiceResponse listed : response.getListServicesResponse().getServiceList()) {
              if (!listed.getName().startsWith("grpc.")) {
                send(ServerReflectionRequest.newBuilder().setFileContainingSymbol(listed.getName()).build());
              }
            }
          }
          case FILE_DESCRIPTOR_RESPONSE -> {
            for (ByteString bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
              FileDescriptorProto file = Descriptors.parseFile(bytes);
              files.put(file.getName(), file);
              requested.add(file.getName());
            }
            for (FileDescriptorProto file : files.values().stream().toList()) {
              for (String dependency : file.getDependencyList()) {
                if (requested.add(dependency)) {
                  send(ServerReflectionRequest.newBuilder().setFileByFilename(dependency).build());
                }
              }
            }
          }
          case ERROR_RESPONSE -> throw new IllegalStateException("reflection error from " + service + ": "
              + response.getErrorResponse().getErrorMessage());
          default -> throw new IllegalStateException("unexpected reflection response from " + service);
        }
        if (outstanding == 0) {
          requests.onCompleted();
          result.complete(TranscodingTable.of(Descriptors.link(files.values())));
        }
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        requests.onError(e);
        result.completeExceptionally(e);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      if (!result.isDone()) {
        result.completeExceptionally(new IllegalStateException("reflection of " + service + " ended early"));
      }
    }
  }
}
