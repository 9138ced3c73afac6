package io.taskmesh.sidecar.support;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Messages as plain bytes, for calling methods a test has no generated stubs for. */
public final class RawBytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
  public static final RawBytesMarshaller INSTANCE = new RawBytesMarshaller();

  private RawBytesMarshaller() {}

  @Override
  public InputStream stream(byte[] value) {
    return new ByteArrayInputStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
