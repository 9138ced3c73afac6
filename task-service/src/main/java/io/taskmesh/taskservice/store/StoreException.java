package io.taskmesh.taskservice.store;

/**
 * The store could not do what was asked. {@link #mayHaveApplied()} tells a failure before anything was
 * written (connection lost, statement refused: the transaction rolled back) from one during commit,
 * whose outcome nobody knows. The message is for the operator's log, not for callers.
 */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean mayHaveApplied;

  private StoreException(String message, Throwable cause, boolean mayHaveApplied) {
    super(message, cause);
    this.mayHaveApplied = mayHaveApplied;
  }

  public static StoreException nothingWritten(String message, Throwable cause) {
    return new StoreException(message, cause, false);
  }

  public static StoreException outcomeUnknown(String message, Throwable cause) {
    return new StoreException(message, cause, true);
  }

  public boolean mayHaveApplied() {
    return mayHaveApplied;
  }
}
