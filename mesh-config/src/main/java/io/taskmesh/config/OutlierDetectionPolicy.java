package io.taskmesh.config;

import java.time.Duration;

/**
 * @param consecutiveFailures failures in a row that eject an endpoint
 * @param baseEjection the first ejection's length; it grows with each repeat
 * @param maxEjectionPercent the most of a cluster's endpoints that may be ejected at once
 */
public record OutlierDetectionPolicy(int consecutiveFailures, Duration baseEjection, int maxEjectionPercent) {}
