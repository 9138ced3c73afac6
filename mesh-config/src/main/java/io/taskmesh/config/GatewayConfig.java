package io.taskmesh.config;

import java.time.Duration;
import java.util.List;

/**
 * The proxy as the mesh's ingress.
 *
 * @param descriptors {@code null} when descriptors are fetched by gRPC server reflection
 * @param maxRequestBodyBytes the largest HTTP/JSON request body (it is buffered whole); above it: 413
 * @param requestBodyTimeout from a request's headers to the end of its body; a body not finished by then: 408
 * @param tls {@code null} for plaintext (h2c and HTTP/1.1) on the gateway port; set, the port speaks only TLS
 */
public record GatewayConfig(
    int port,
    List<GatewayRoute> routes,
    DescriptorsConfig descriptors,
    ClientRateLimitConfig clientRateLimit,
    String correlationHeader,
    int maxRequestBodyBytes,
    Duration requestBodyTimeout,
    GatewayTlsConfig tls) {

  public GatewayConfig {
    routes = List.copyOf(routes);
  }

  /** The same gateway with other routes (what a hot reload may change). */
  public GatewayConfig withRoutes(List<GatewayRoute> newRoutes) {
    return new GatewayConfig(port, newRoutes, descriptors, clientRateLimit, correlationHeader, maxRequestBodyBytes,
        requestBodyTimeout, tls);
  }
}
