package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.ClientRateLimitConfig;
import io.taskmesh.sidecar.filter.TokenBucket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per client (requestsPerMinute, with a burst of as many), in a table of at most
 * {@code maxTrackedClients}: the least recently seen client is forgotten first, so rotating addresses costs
 * an attacker only fresh buckets, never the gateway's memory.
 */
final class ClientRateLimiter {
  private final double ratePerSecond;
  private final int burst;
  private final LongSupplier nanoClock;
  private final Map<String, TokenBucket> buckets;

  ClientRateLimiter(ClientRateLimitConfig config, LongSupplier nanoClock) {
    this.ratePerSecond = config.requestsPerMinute() / 60.0;
    this.burst = config.requestsPerMinute();
    this.nanoClock = nanoClock;
    int max = config.maxTrackedClients();
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, TokenBucket> eldest) {
        return size() > max;
      }
    };
  }

  /** @return 0 when {@code client} may go on, else the nanoseconds until it may try again */
  synchronized long tryAcquire(String client) {
    return buckets.computeIfAbsent(client, key -> new TokenBucket(ratePerSecond, burst, nanoClock)).tryTake();
  }

  synchronized int trackedClients() {
    return buckets.size();
  }
}
