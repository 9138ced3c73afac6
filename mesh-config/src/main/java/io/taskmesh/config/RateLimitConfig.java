package io.taskmesh.config;

/** A token bucket: refilled at {@code requestsPerSecond}, holding at most {@code burst} tokens. */
public record RateLimitConfig(double requestsPerSecond, int burst) {}
