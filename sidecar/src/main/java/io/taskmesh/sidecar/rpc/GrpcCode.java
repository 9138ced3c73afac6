package io.taskmesh.sidecar.rpc;

/** The gRPC status codes, in the order of their numbers. */
public enum GrpcCode {
  OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
  RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS,
  UNAUTHENTICATED;

  private static final GrpcCode[] BY_NUMBER = values();

  /** The code of a {@code grpc-status} value; UNKNOWN for anything that is not one. */
  public static GrpcCode of(CharSequence grpcStatus) {
    try {
      int number = Integer.parseInt(grpcStatus.toString().trim());
      return number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : UNKNOWN;
    } catch (NumberFormatException e) {
      return UNKNOWN;
    }
  }

  /**
   * The code a client takes from an answer without {@code grpc-status} (a proxy's or a plain HTTP server's), as
   * gRPC's HTTP-to-status mapping says.
   */
  public static GrpcCode ofHttpStatus(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> INTERNAL;
      case 401 -> UNAUTHENTICATED;
      case 403 -> PERMISSION_DENIED;
      case 404 -> UNIMPLEMENTED;
      case 429, 502, 503, 504 -> UNAVAILABLE;
      default -> UNKNOWN;
    };
  }
}
