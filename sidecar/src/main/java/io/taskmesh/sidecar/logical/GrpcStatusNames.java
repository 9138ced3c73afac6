package io.taskmesh.sidecar.logical;

/** gRPC status codes by name, as metrics, logs and outcomes speak of them. */
final class GrpcStatusNames {
  private static final String[] NAMES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
  };

  private GrpcStatusNames() {}

  static String of(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "UNKNOWN";
  }

  /** The name of a {@code grpc-status} header value; {@code UNKNOWN} for anything that is not a code. */
  static String of(CharSequence grpcStatus) {
    int length = grpcStatus.length();
    if (length == 1 && isDigit(grpcStatus.charAt(0))) { // every status an answer carries: no String made to parse
      return of(grpcStatus.charAt(0) - '0');
    }
    if (length == 2 && isDigit(grpcStatus.charAt(0)) && isDigit(grpcStatus.charAt(1))) {
      return of((grpcStatus.charAt(0) - '0') * 10 + grpcStatus.charAt(1) - '0');
    }
    try {
      return of(Integer.parseInt(grpcStatus.toString()));
    } catch (NumberFormatException e) {
      return "UNKNOWN";
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
