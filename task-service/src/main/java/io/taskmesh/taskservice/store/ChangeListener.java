package io.taskmesh.taskservice.store;

import io.taskmesh.taskservice.api.TaskUpdateEvent;

/** Receives a store's committed changes, one call at a time, in commit order. */
public interface ChangeListener {

  void changed(TaskUpdateEvent event);

  /** Changes may have been missed (e.g. the change feed lost its database connection) and may still be. */
  void interrupted(String reason);

  /** Every change committed from now on will be delivered again. */
  void resumed();
}
