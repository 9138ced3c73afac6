package io.taskmesh.sidecar.rpc;

/** A call that did not end OK; its message is the status, code first. */
public final class GrpcStatusException extends RuntimeException {
  private final GrpcStatus status;

  public GrpcStatusException(GrpcStatus status) {
    super(status.toString());
    this.status = status;
  }

  public GrpcStatus status() {
    return status;
  }

  public GrpcCode code() {
    return status.code();
  }
}
