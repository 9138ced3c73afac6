package io.taskmesh.sidecar.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/** A descriptor-set file ({@code protoc --descriptor_set_out --include_imports}), read once at start for all services. */
final class FileDescriptorSource implements DescriptorSource {
  private final CompletableFuture<TranscodingTable> table;

  FileDescriptorSource(Path file) {
    try {
      table = CompletableFuture.completedFuture(TranscodingTable.of(Descriptors.fromDescriptorSet(Files.readAllBytes(file))));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("gateway.descriptors.file " + file + " is not a descriptor set: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("gateway.descriptors.file " + file + " cannot be read: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("gateway.descriptors.file " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public CompletableFuture<TranscodingTable> table(String service) {
    return table;
  }
}
