package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.ClientRateLimitConfig;

/** What every gateway connection shares: routes, descriptors, the upstream channel, the client limits, metrics. */
record GatewayContext(
    GatewayRoutes routes,
    DescriptorSource descriptors,
    UpstreamCalls upstream,
    ClientRateLimiter rateLimiter,
    ClientRateLimitConfig rateLimit,
    String correlationHeader,
    GatewayMetrics metrics) {}
