package io.taskmesh.config;

/** A token bucket per client address, at most {@code maxTrackedClients} buckets held at once. */
public record ClientRateLimitConfig(int requestsPerMinute, int maxTrackedClients, boolean trustForwardedFor) {}
