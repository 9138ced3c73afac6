package io.taskmesh.sidecar.filter;

/**
 * What filters know about one request.
 *
 * @param direction {@code inbound} or {@code outbound}
 * @param service the routed service, or the requested target when nothing matched
 * @param method the gRPC method path, e.g. {@code /taskservice.TaskService/GetTask}
 */
public record RequestInfo(String direction, String service, String method, long startNanos) {}
