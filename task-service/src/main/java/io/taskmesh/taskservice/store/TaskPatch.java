package io.taskmesh.taskservice.store;

/** The fields an update changes; {@code null} leaves a field as it is. */
public record TaskPatch(String title, String description, String priority, String status) {

  public boolean isEmpty() {
    return title == null && description == null && priority == null && status == null;
  }
}
