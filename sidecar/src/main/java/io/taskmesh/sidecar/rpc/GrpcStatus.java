package io.taskmesh.sidecar.rpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** How a call ended: its code and the server's (or this client's) description. */
public record GrpcStatus(GrpcCode code, String message) {
  public static final GrpcStatus OK = new GrpcStatus(GrpcCode.OK, "");

  public boolean isOk() {
    return code == GrpcCode.OK;
  }

  public GrpcStatusException asException() {
    return new GrpcStatusException(this);
  }

  /** A {@code grpc-message} value, which is percent-encoded UTF-8; a malformed escape is kept as it came. */
  static String decodeMessage(CharSequence encoded) {
    if (encoded == null) {
      return "";
    }
    String text = encoded.toString();
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%' && i + 2 < text.length() && hex(text, i + 1)) {
        bytes.write(Integer.parseInt(text, i + 1, i + 3, 16));
        i += 2;
      } else {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static boolean hex(String text, int at) {
    return Character.digit(text.charAt(at), 16) >= 0 && Character.digit(text.charAt(at + 1), 16) >= 0;
  }

  @Override
  public String toString() {
    return message.isEmpty() ? code.name() : code + ": " + message;
  }
}
