package io.taskmesh.taskservice;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;

/** The allowed values and limits of the task API; each violation is INVALID_ARGUMENT naming the field. */
public final class TaskRules {
  public static final List<String> PRIORITIES = List.of("low", "medium", "high", "urgent");
  public static final List<String> STATUSES = List.of("todo", "in_progress", "done");
  public static final String DEFAULT_PRIORITY = "medium";
  public static final String INITIAL_STATUS = "todo";
  public static final int MAX_TITLE = 200;
  public static final int MAX_DESCRIPTION = 2000;
  public static final int MAX_USER_ID = 64;
  public static final int DEFAULT_LIMIT = 50;
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

  static String userId(String userId) {
    if (userId.isBlank()) {
      throw invalid("user_id", "must not be empty");
    }
    return maxLength("user_id", userId.strip(), MAX_USER_ID);
  }

  static String priority(String priority) {
    return oneOf("priority", priority, PRIORITIES);
  }

  static String status(String status) {
    return oneOf("status", status, STATUSES);
  }

  static String id(String id) {
    if (id.isBlank()) {
      throw invalid("id", "must not be empty");
    }
    return id.strip();
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
