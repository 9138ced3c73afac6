package io.taskmesh.config;

import java.time.Duration;

/**
 * The proxy's own connections to upstream endpoints: a PING when nothing was read for
 * {@code keepaliveInterval}, the connection closed when nothing arrives {@code keepaliveTimeout} after it, so
 * a silently dead peer is noticed; zero turns it off.
 */
public record UpstreamConnectionBudgets(Duration keepaliveInterval, Duration keepaliveTimeout) {
  public static final UpstreamConnectionBudgets DEFAULT =
      new UpstreamConnectionBudgets(Duration.ofSeconds(30), Duration.ofSeconds(10));
}
