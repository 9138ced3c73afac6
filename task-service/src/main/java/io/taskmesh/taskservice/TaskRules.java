package io.taskmesh.taskservice;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;

/** The allowed values and limits of the task API; each violation is INVALID_ARGUMENT naming the field. */
public final class TaskRules {
  public static final List<String> PRIORITIES = List.of("low", "medium", "high", "urgent");
  public static final List<String> STATUSES = List.of("todo", "in_progress", "done");
  public static final String DEFAULT_PRIORITY = "medium";
  public static final String DEFAULT_STATUS = "todo";
  /** TaskUpdateEvent.event_type values. */
  public static final String CREATED = "created";
  public static final String UPDATED = "updated";
  public static final String DELETED = "deleted";
  public static final int MAX_TITLE = 200;
  public static final int MAX_DESCRIPTION = 2000;
  public static final int DEFAULT_LIMIT = 10;
  public static final int MAX_LIMIT = 500;

  private TaskRules() {}

  static String title(String title) {
    if (title.isBlank()) {
      throw invalid("title", "must not be empty");
    }
    return maxLength("title", title.strip(), MAX_TITLE);
  }

  static String description(String description) {
    return maxLength("description", description, MAX_DESCRIPTION);
  }

  /** A required id-like field (id, user_id): 0 is what a client sends when it leaves the field out. */
  static int required(String field, int value) {
    if (value == 0) {
      throw invalid(field, "is required");
    }
    return positive(field, value);
  }

  static int positive(String field, int value) {
    if (value <= 0) {
      throw invalid(field, "must be a positive integer, got " + value);
    }
    return value;
  }

  /** 0 means no project. */
  static int projectId(int projectId) {
    if (projectId < 0) {
      throw invalid("project_id", "must be 0 (no project) or a positive integer, got " + projectId);
    }
    return projectId;
  }

  static String priority(String priority) {
    return oneOf("priority", priority, PRIORITIES);
  }

  static String status(String status) {
    return oneOf("status", status, STATUSES);
  }

  /** A subscription names a user, or tasks, or both. */
  static void subscription(int userId, List<Integer> taskIds) {
    if (userId == 0 && taskIds.isEmpty()) {
      throw invalid("user_id", "is required unless task_ids names the tasks to follow");
    }
    if (userId != 0) {
      positive("user_id", userId);
    }
    for (int taskId : taskIds) {
      positive("task_ids", taskId);
    }
  }

  static int limit(int limit) {
    if (limit < 0 || limit > MAX_LIMIT) {
      throw invalid("limit", "must be between 0 and " + MAX_LIMIT + " (0 means " + DEFAULT_LIMIT + "), got " + limit);
    }
    return limit == 0 ? DEFAULT_LIMIT : limit;
  }

  static int offset(int offset) {
    if (offset < 0) {
      throw invalid("offset", "must not be negative, got " + offset);
    }
    return offset;
  }

  static StatusRuntimeException invalid(String field, String problem) {
    return Status.INVALID_ARGUMENT.withDescription(field + ": " + problem).asRuntimeException();
  }

  private static String maxLength(String field, String value, int max) {
    if (value.length() > max) {
      throw invalid(field, "must be at most " + max + " characters, got " + value.length());
    }
    return value;
  }

  private static String oneOf(String field, String value, List<String> allowed) {
    if (!allowed.contains(value)) {
      throw invalid(field, "must be one of " + allowed + ", got '" + value + "'");
    }
    return value;
  }
}
