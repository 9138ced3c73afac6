package io.taskmesh.config;

import java.time.Duration;

/**
 * @param failureRateThreshold percent of failed calls in the window that opens the circuit
 * @param minimumCalls calls the window must hold before the rate is judged
 * @param slidingWindow the number of most recent calls judged
 * @param waitInOpen how long an open circuit fails fast before it lets trial calls through
 * @param permittedInHalfOpen trial calls let through when half open
 */
public record CircuitBreakerPolicy(
    int failureRateThreshold, int minimumCalls, int slidingWindow, Duration waitInOpen, int permittedInHalfOpen) {}
