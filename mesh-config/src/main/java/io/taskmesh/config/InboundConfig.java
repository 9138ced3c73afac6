package io.taskmesh.config;

/**
 * The side that receives mesh traffic and hands it to the local app.
 *
 * @param rateLimit {@code null} when inbound traffic is not rate limited
 */
public record InboundConfig(int port, int appPort, RateLimitConfig rateLimit, int maxConcurrentRequests) {}
