package io.taskmesh.taskservice.store;

/** A validated task to create; {@code projectId} 0 means no project. */
public record NewTask(String title, String description, String priority, String status, int userId, int projectId) {}
