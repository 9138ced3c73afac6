package io.taskmesh.sidecar.logical;

import com.google.protobuf.CodedInputStream;
import io.netty.util.AsciiString;
import java.io.IOException;

/**
 * Whether a request body is well-formed gRPC: length-prefixed messages (a compressed flag of 0 or 1, then
 * exactly as many bytes as the prefix says), each uncompressed one valid protobuf wire format. It reads the
 * wire format only, without the message's schema; what is well-formed may still be a message the app
 * rejects. Checked only when the upstream answered with an error, to tell a malformed request from an
 * unwell upstream.
 */
final class RequestBodies {
  private static final int PREFIX_BYTES = 5;

  private RequestBodies() {}

  /** True when a protobuf gRPC body, kept whole ({@code body} not null), is not well-formed; anything else is not judged. */
  static boolean isMalformedProtobuf(CharSequence contentType, byte[] body) {
    boolean protobuf = contentType != null
        && (AsciiString.contentEquals("application/grpc", contentType)
            || AsciiString.contentEquals("application/grpc+proto", contentType));
    return protobuf && body != null && !isWellFormed(body);
  }

  static boolean isWellFormed(byte[] body) {
    int at = 0;
    while (at < body.length) {
      if (body.length - at < PREFIX_BYTES) {
        return false;
      }
      int compressed = body[at];
      long length = ((body[at + 1] & 0xffL) << 24) | ((body[at + 2] & 0xff) << 16) | ((body[at + 3] & 0xff) << 8)
          | (body[at + 4] & 0xff);
      at += PREFIX_BYTES;
      if ((compressed != 0 && compressed != 1) || length > body.length - at) {
        return false;
      }
      if (compressed == 0 && !isProtobufWireFormat(body, at, (int) length)) {
        return false;
      }
      at += (int) length;
    }
    return true;
  }

  private static boolean isProtobufWireFormat(byte[] bytes, int offset, int length) {
    CodedInputStream in = CodedInputStream.newInstance(bytes, offset, length);
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (!in.skipField(tag)) {
          return false; // an end-group tag with no group open
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
