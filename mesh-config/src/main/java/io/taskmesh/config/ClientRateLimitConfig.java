package io.taskmesh.config;

/**
 * What one gateway client (an address, IPv6 by its /64) may do: a token bucket of {@code requestsPerMinute},
 * charged when a request's headers arrive, and caps on how many of its requests are in progress at once,
 * unary and streaming (watches) apart, so watches cannot starve calls. At most {@code maxTrackedClients}
 * clients are remembered.
 */
public record ClientRateLimitConfig(int requestsPerMinute, int maxTrackedClients, int maxConcurrentRequests,
    int maxConcurrentStreams, ForwardedForTrust forwardedFor) {}
