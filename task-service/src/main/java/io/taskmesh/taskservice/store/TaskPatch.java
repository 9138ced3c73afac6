package io.taskmesh.taskservice.store;

/** The fields an update changes; {@code null} leaves a field as it is. */
public record TaskPatch(String title, String description, String status, String priority) {

  public boolean isEmpty() {
    return title == null && description == null && status == null && priority == null;
  }
}
