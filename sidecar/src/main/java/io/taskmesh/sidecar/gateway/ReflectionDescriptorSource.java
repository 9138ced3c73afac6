package io.taskmesh.sidecar.gateway;

import io.taskmesh.sidecar.reflection.ServerFiles;
import io.taskmesh.sidecar.rpc.CallSettings;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks each routed service itself, by gRPC server reflection (v1) through the mesh, for its files: once,
 * then cached. A failed or invalidated lookup is forgotten, so the next request asks again.
 */
final class ReflectionDescriptorSource implements DescriptorSource {
  private final GrpcChannel channel;
  private final Duration timeout;
  private final Map<String, CompletableFuture<TranscodingTable>> tables = new ConcurrentHashMap<>();

  /** @param channel to the proxy's own outbound listener, which routes each query by the service's name */
  ReflectionDescriptorSource(GrpcChannel channel, Duration timeout) {
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
    return ServerFiles.fetch(channel, CallSettings.deadline(timeout).withAuthority(service), service,
            Descriptors.REGISTRY)
        .thenApply(files -> TranscodingTable.of(Descriptors.link(files)));
  }
}
