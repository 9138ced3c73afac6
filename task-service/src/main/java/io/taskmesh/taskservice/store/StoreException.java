package io.taskmesh.taskservice.store;

/** The store could not do what was asked (connection lost, constraint broken, ...). */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
