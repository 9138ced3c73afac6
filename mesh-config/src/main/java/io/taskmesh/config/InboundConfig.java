package io.taskmesh.config;

/**
 * The side that receives mesh traffic and hands it to the local app.
 *
 * @param rateLimit {@code null} when inbound traffic is not rate limited
 * @param maxConcurrentRequests unary calls in progress at once (and calls of methods not known to be streaming)
 * @param maxConcurrentStreamingRequests streaming calls (watches) in progress at once, counted apart so
 *     long-lived watches cannot take every permit from unary calls
 */
public record InboundConfig(int port, int appPort, RateLimitConfig rateLimit, int maxConcurrentRequests,
    int maxConcurrentStreamingRequests) {}
