package io.taskmesh.sidecar.reflection;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Asks a server by gRPC server reflection (v1) for the files of every service it offers (not the grpc.*
 * ones: health, reflection) and the files they import. One conversation, no thread of its own.
 */
public final class ServerFiles {
  private ServerFiles() {}

  /** @param registry the extensions to parse in the files' options (e.g. google.api.http) */
  public static CompletableFuture<List<FileDescriptorProto>> fetch(Channel channel, CallOptions options,
      String server, ExtensionRegistryLite registry) {
    Lookup lookup = new Lookup(server, registry);
    lookup.requests = ClientCalls.asyncBidiStreamingCall(
        channel.newCall(ServerReflectionGrpc.getServerReflectionInfoMethod(), options), lookup);
    lookup.send(ServerReflectionRequest.newBuilder().setListServices("*").build());
    return lookup.result;
  }

  /**
   * List the services, ask for the file of each, then for every imported file not yet seen. Responses
   * arrive one at a time, so the state needs no locking.
   */
  private static final class Lookup implements StreamObserver<ServerReflectionResponse> {
    private final String server;
    private final ExtensionRegistryLite registry;
    private final CompletableFuture<List<FileDescriptorProto>> result = new CompletableFuture<>();
    private final Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
    private final Set<String> requested = new HashSet<>();
    private StreamObserver<ServerReflectionRequest> requests;
    private int outstanding;

    Lookup(String server, ExtensionRegistryLite registry) {
      this.server = server;
      this.registry = registry;
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
              FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes, registry);
              files.put(file.getName(), file);
              requested.add(file.getName());
            }
            for (FileDescriptorProto file : List.copyOf(files.values())) {
              for (String dependency : file.getDependencyList()) {
                if (requested.add(dependency)) {
                  send(ServerReflectionRequest.newBuilder().setFileByFilename(dependency).build());
                }
              }
            }
          }
          case ERROR_RESPONSE -> throw new IllegalStateException("reflection error from " + server + ": "
              + response.getErrorResponse().getErrorMessage());
          default -> throw new IllegalStateException("unexpected reflection response from " + server);
        }
        if (outstanding == 0) {
          requests.onCompleted();
          result.complete(List.copyOf(files.values()));
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
        result.completeExceptionally(new IllegalStateException("reflection of " + server + " ended early"));
      }
    }
  }
}
