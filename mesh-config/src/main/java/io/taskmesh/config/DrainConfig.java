package io.taskmesh.config;

import java.time.Duration;

/** @param timeout how long in-flight requests may take to finish after a shutdown signal */
public record DrainConfig(Duration timeout) {}
