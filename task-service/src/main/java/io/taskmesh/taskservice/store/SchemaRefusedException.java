package io.taskmesh.taskservice.store;

/** The store holds data its schema migration cannot carry over faithfully; the message says what to do. */
public final class SchemaRefusedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  SchemaRefusedException(String message) {
    super(message);
  }
}
