package io.taskmesh.sidecar.rpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.CompositeByteBuf;
import java.util.function.Consumer;

/**
 * Cuts a response body into gRPC's length-prefixed messages (one flag byte, four length bytes, the message), across
 * DATA frames that split or join them as they like. Compressed messages are refused: this client never offers a
 * {@code grpc-accept-encoding}, so a server has no reason to send one.
 */
final class MessageDeframer<R extends MessageLite> implements AutoCloseable {
  static final int HEADER_BYTES = 5;
  /** As grpc-java's default: a larger message is refused, not buffered. */
  static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  private final Parser<R> parser;
  private final CompositeByteBuf pending;

  MessageDeframer(Parser<R> parser, ByteBufAllocator allocator) {
    this.parser = parser;
    this.pending = allocator.compositeBuffer();
  }

  /** Takes {@code data} (and its reference); gives each complete message to {@code messages}. */
  void add(ByteBuf data, Consumer<R> messages) {
    pending.addComponent(true, data);
    while (pending.readableBytes() >= HEADER_BYTES) {
      int start = pending.readerIndex();
      int flags = pending.getUnsignedByte(start);
      long length = pending.getUnsignedInt(start + 1);
      if ((flags & 1) != 0) {
        throw new GrpcStatusException(new GrpcStatus(GrpcCode.INTERNAL, "compressed message, none was asked for"));
      }
      if (length > MAX_MESSAGE_BYTES) {
        throw new GrpcStatusException(new GrpcStatus(GrpcCode.RESOURCE_EXHAUSTED,
            "message of " + length + " bytes, more than the " + MAX_MESSAGE_BYTES + " this client takes"));
      }
      if (pending.readableBytes() < HEADER_BYTES + length) {
        return;
      }
      pending.skipBytes(HEADER_BYTES);
      ByteBuf message = pending.readSlice((int) length);
      try {
        messages.accept(parser.parseFrom(new ByteBufInputStream(message)));
      } catch (InvalidProtocolBufferException e) {
        throw new GrpcStatusException(new GrpcStatus(GrpcCode.INTERNAL, "unparsable message: " + e.getMessage()));
      }
      pending.discardReadComponents();
    }
  }

  /** Bytes of a message begun and not finished: a body that ends with some was cut short. */
  boolean hasPartialMessage() {
    return pending.isReadable();
  }

  @Override
  public void close() {
    pending.release();
  }

  /** {@code message} with its length prefix. */
  static ByteBuf frame(MessageLite message, ByteBufAllocator allocator) {
    int size = message.getSerializedSize();
    ByteBuf framed = allocator.buffer(HEADER_BYTES + size);
    framed.writeByte(0).writeInt(size);
    byte[] bytes = message.toByteArray();
    framed.writeBytes(bytes);
    return framed;
  }
}
