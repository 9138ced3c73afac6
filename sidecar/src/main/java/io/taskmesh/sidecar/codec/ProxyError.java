package io.taskmesh.sidecar.codec;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A failure the proxy answers itself: which hop, about which service or endpoint, why. Sent as a gRPC
 * trailers-only response whose grpc-message a person can read and whose {@code taskmesh-error} header a
 * program can parse.
 *
 * @param grpcStatus the numeric gRPC status code
 * @param reason a short machine-readable reason, e.g. {@code no_route}, {@code connect_refused}
 */
public record ProxyError(String hop, String target, int grpcStatus, String reason, String detail, long retryAfterMillis) {
  public static final int UNAVAILABLE = 14;
  public static final int INTERNAL = 13;
  public static final int RESOURCE_EXHAUSTED = 8;
  public static final int DEADLINE_EXCEEDED = 4;
  public static final int PERMISSION_DENIED = 7;
  /** gRPC's own retry hint: how long a client should wait before trying again. */
  public static final String RETRY_PUSHBACK_HEADER = "grpc-retry-pushback-ms";

  /** An error with no retry hint. */
  public ProxyError(String hop, String target, int grpcStatus, String reason, String detail) {
    this(hop, target, grpcStatus, reason, detail, -1);
  }

  public static final String ERROR_HEADER = "taskmesh-error";

  public String message() {
    return hop + ": " + target + ": " + detail;
  }

  public Http2Headers toTrailersOnly() {
    Http2Headers headers = new DefaultHttp2Headers().status("200");
    headers.set("content-type", "application/grpc");
    headers.set("grpc-status", Integer.toString(grpcStatus));
    headers.set("grpc-message", percentEncode(message()));
    headers.set(ERROR_HEADER, "hop=" + hop + "; target=" + target + "; reason=" + reason);
    if (retryAfterMillis >= 0) {
      headers.set(RETRY_PUSHBACK_HEADER, Long.toString(retryAfterMillis));
    }
    return headers;
  }

  /** grpc-message encoding: printable ASCII except '%' as is, everything else as %XX of its UTF-8 bytes. */
  static String percentEncode(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (byte b : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(String.format("%02X", c));
      }
    }
    return out.toString();
  }
}
