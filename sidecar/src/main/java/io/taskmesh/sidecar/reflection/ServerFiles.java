package io.taskmesh.sidecar.reflection;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.taskmesh.sidecar.rpc.CallSettings;
import io.taskmesh.sidecar.rpc.GrpcCall;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import io.taskmesh.sidecar.rpc.GrpcMethod;
import io.taskmesh.sidecar.rpc.GrpcStatus;
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
  private static final GrpcMethod<ServerReflectionRequest, ServerReflectionResponse> REFLECTION_INFO =
      GrpcMethod.of("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo", ServerReflectionResponse.parser());

  private ServerFiles() {}

  /**
   * @param settings the call's deadline, and the authority and headers that reach {@code server} through a proxy
   * @param registry the extensions to parse in the files' options (e.g. google.api.http)
   */
  public static CompletableFuture<List<FileDescriptorProto>> fetch(GrpcChannel channel, CallSettings settings,
      String server, ExtensionRegistryLite registry) {
    Lookup lookup = new Lookup(server, registry);
    lookup.requests = channel.call(REFLECTION_INFO, settings, lookup);
    lookup.send(ServerReflectionRequest.newBuilder().setListServices("*").build());
    return lookup.result;
  }

  /**
   * List the services, ask for the file of each, then for every imported file not yet seen. Responses
   * arrive one at a time, so the state needs no locking.
   */
  private static final class Lookup implements GrpcCall.Listener<ServerReflectionResponse> {
    private final String server;
    private final ExtensionRegistryLite registry;
    private final CompletableFuture<List<FileDescriptorProto>> result = new CompletableFuture<>();
    private final Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
    private final Set<String> requested = new HashSet<>();
    private GrpcCall<ServerReflectionRequest, ServerReflectionResponse> requests;
    private int outstanding;

    Lookup(String server, ExtensionRegistryLite registry) {
      this.server = server;
      this.registry = registry;
    }

    void send(ServerReflectionRequest request) {
      outstanding++;
      requests.send(request);
    }

    @Override
    public void onMessage(ServerReflectionResponse response) {
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
          requests.halfClose();
          result.complete(List.copyOf(files.values()));
        }
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        result.completeExceptionally(e);
        requests.cancel(String.valueOf(e.getMessage()));
      }
    }

    @Override
    public void onClose(GrpcStatus status) {
      if (!result.isDone()) {
        result.completeExceptionally(status.isOk()
            ? new IllegalStateException("reflection of " + server + " ended early") : status.asException());
      }
    }
  }
}
