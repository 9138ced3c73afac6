package io.taskmesh.config;

/** How a request picks one endpoint of a cluster. */
public enum LoadBalancerPolicy {
  /** Power of two random choices, preferring fewer outstanding requests weighted by EWMA latency. */
  P2C_EWMA,
  ROUND_ROBIN
}
