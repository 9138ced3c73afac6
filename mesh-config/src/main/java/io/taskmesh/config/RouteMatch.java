package io.taskmesh.config;

import java.util.List;

/**
 * What a request must be for a rule to take it (a GRPCRoute match): every part given must hold exactly.
 *
 * @param grpcService e.g. {@code taskservice.TaskService}; {@code null} matches any
 * @param grpcMethod e.g. {@code GetTask}; {@code null} matches any
 * @param headers headers the request must carry with exactly these values
 */
public record RouteMatch(String grpcService, String grpcMethod, List<Header> headers) {
  public RouteMatch {
    headers = List.copyOf(headers);
  }
}
