package io.taskmesh.taskservice.store;

import io.taskmesh.taskservice.api.TaskResponse;
import java.util.List;
import java.util.Optional;

/**
 * Where tasks live. Ids are issued by the store: positive, increasing, never reused. Every change is
 * announced to the change listener once committed, in commit order.
 */
public interface TaskStore extends AutoCloseable {

  TaskResponse create(NewTask task);

  Optional<TaskResponse> get(int id);

  /** Applies {@code patch} to the task with {@code id}; empty when there is none. */
  Optional<TaskResponse> update(int id, TaskPatch patch);

  /** Removes the task; empty when there was none. */
  Optional<TaskResponse> delete(int id);

  /** The user's tasks in creation order, filtered by status when it is non-null. */
  List<TaskResponse> list(int userId, String status, int limit, int offset);

  /** Fails when the store cannot answer a trivial query. */
  void checkHealth();

  /**
   * Sets the one listener of committed changes. A store shared by several replicas (PostgreSQL) announces
   * every replica's changes to every replica.
   */
  void onChange(ChangeListener listener);

  @Override
  void close();
}
