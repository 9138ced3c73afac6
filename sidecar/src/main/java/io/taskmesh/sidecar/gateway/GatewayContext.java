package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.ClientRateLimitConfig;
import java.time.Duration;
import java.util.function.Function;

/**
 * What every gateway connection shares: routes, descriptors, the upstream channel, the client limits, metrics,
 * the gateway's own status answers.
 *
 * @param unaryTimeout a service's timeout for unary calls (server streams get none: a watch may last)
 */
record GatewayContext(
    GatewayRoutes routes,
    DescriptorSource descriptors,
    UpstreamCalls upstream,
    ClientRateLimiter rateLimiter,
    ClientRateLimitConfig rateLimit,
    String correlationHeader,
    Function<String, Duration> unaryTimeout,
    GatewayMetrics metrics,
    GatewayStatus status) {}
