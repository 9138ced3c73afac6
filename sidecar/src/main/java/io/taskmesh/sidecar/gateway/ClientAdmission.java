package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.ClientRateLimitConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The per-client gate every gateway request passes when its headers arrive, before its body is read: the
 * client's token bucket, then its cap on requests in progress. A request holds its {@link Permit} until it is
 * answered; one that turns out to be a stream (a watch) moves to the client's separate stream cap, so watches
 * never take the permits unary calls need.
 */
final class ClientAdmission {
  private final ClientRateLimitConfig config;
  private final ClientRateLimiter tokens;
  private final Map<String, int[]> inProgress = new HashMap<>();

  ClientAdmission(ClientRateLimitConfig config, LongSupplier nanoClock) {
    this.config = config;
    this.tokens = new ClientRateLimiter(config, nanoClock);
  }

  /** What {@link #admit} decided. */
  sealed interface Decision permits Permit, Refusal {}

  /** Why a request was not admitted: the reason for {@code taskmesh-error}, and when to retry (0: no hint). */
  record Refusal(String reason, String detail, long retryAfterNanos) implements Decision {}

  /** The client's place while one request is in progress. */
  final class Permit implements Decision {
    private final String client;
    private boolean stream;
    private boolean released;

    private Permit(String client) {
      this.client = client;
    }

    /** The request is a stream: it leaves the unary cap for the stream cap; null when that is full. */
    Refusal becomeStream() {
      synchronized (ClientAdmission.this) {
        int[] counts = inProgress.get(client);
        if (released || stream) {
          return null;
        }
        if (counts[1] >= config.maxConcurrentStreams()) {
          return new Refusal("client_streams", "too many streams: " + counts[1]
              + " open, the limit (clientRateLimit.maxConcurrentStreams)", 0);
        }
        counts[0]--;
        counts[1]++;
        stream = true;
        return null;
      }
    }

    void release() {
      synchronized (ClientAdmission.this) {
        if (released) {
          return;
        }
        released = true;
        int[] counts = inProgress.get(client);
        counts[stream ? 1 : 0]--;
        if (counts[0] == 0 && counts[1] == 0) {
          inProgress.remove(client);
        }
      }
    }
  }

  /** A permit for one request of {@code client}, or why not. */
  synchronized Decision admit(String client) {
    int[] counts = inProgress.get(client);
    if (counts != null && counts[0] >= config.maxConcurrentRequests()) {
      return new Refusal("client_concurrency", "too many requests in progress: " + counts[0]
          + ", the limit (clientRateLimit.maxConcurrentRequests)", 0);
    }
    long waitNanos = tokens.tryAcquire(client);
    if (waitNanos > 0) {
      return new Refusal("rate_limited", "rate limited: over " + config.requestsPerMinute()
          + " requests per minute", waitNanos);
    }
    inProgress.computeIfAbsent(client, key -> new int[2])[0]++;
    return new Permit(client);
  }

  int trackedClients() {
    return tokens.trackedClients();
  }
}
