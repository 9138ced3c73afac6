package io.taskmesh.config;

import java.util.List;

/**
 * The proxy as the mesh's ingress.
 *
 * @param descriptors {@code null} when descriptors are fetched by gRPC server reflection
 */
public record GatewayConfig(
    int port,
    List<GatewayRoute> routes,
    DescriptorsConfig descriptors,
    ClientRateLimitConfig clientRateLimit,
    String correlationHeader) {

  public GatewayConfig {
    routes = List.copyOf(routes);
  }
}
