package io.taskmesh.operator.identity;

/** Why a CSR was not signed; the message names what is wrong, for the requesting sidecar's log. */
public final class RefusedCsr extends Exception {
  public enum Reason {
    /** Not a PKCS#10 request, a signature that does not match its key, or a key too weak. */
    MALFORMED,
    /** A request for another identity than the one the token proves. */
    WRONG_IDENTITY
  }

  private final Reason reason;

  RefusedCsr(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
