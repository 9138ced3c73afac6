package io.taskmesh.config;

import java.time.Duration;

/** How the proxy calls one upstream service. */
public record UpstreamPolicy(
    Duration timeout,
    RetryPolicy retries,
    CircuitBreakerPolicy circuitBreaker,
    OutlierDetectionPolicy outlierDetection,
    LoadBalancerPolicy loadBalancer) {}
