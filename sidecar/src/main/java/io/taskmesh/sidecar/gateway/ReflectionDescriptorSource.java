package io.taskmesh.sidecar.gateway;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.taskmesh.sidecar.reflection.ServerFiles;
import java.time.Duration;
import java.util.Map;
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
    return ServerFiles.fetch(channel,
            CallOptions.DEFAULT.withAuthority(service).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS),
            service, Descriptors.REGISTRY)
        .thenApply(files -> TranscodingTable.of(Descriptors.link(files)));
  }
}
