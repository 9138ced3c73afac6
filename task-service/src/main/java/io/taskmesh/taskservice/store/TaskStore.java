package io.taskmesh.taskservice.store;

import io.taskmesh.taskservice.api.Task;
import io.taskmesh.taskservice.api.TaskUpdateEvent;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** Where tasks live. Every change is announced to the change listener once committed, in commit order. */
public interface TaskStore extends AutoCloseable {

  Task create(String title, String description, String priority, String userId);

  Optional<Task> get(String id);

  /** Applies {@code patch} to the task with {@code id}; empty when there is none. */
  Optional<Task> update(String id, TaskPatch patch);

  /** Removes the task; empty when there was none. */
  Optional<Task> delete(String id);

  /** Tasks in creation order (then id), filtered by user and status when those are non-null. */
  List<Task> list(String userId, String status, int limit, int offset);

  /** Fails when the store cannot answer a trivial query. */
  void checkHealth();

  /**
   * Sets the one listener of committed changes. A store shared by several replicas (PostgreSQL) announces
   * every replica's changes to every replica.
   */
  void onChange(Consumer<TaskUpdateEvent> listener);

  @Override
  void close();
}
