package io.taskmesh.config;

import java.time.Duration;

/**
 * What one listener lets its clients hold, so that no client (faulty or hostile) can take more than its
 * share of connections, memory or time. A budget that fires is counted in
 * {@code taskmesh_listener_budget_exceeded_total{listener,budget}}. A zero duration turns that timer off.
 *
 * @param maxConnections connections open at once; the next one is closed as soon as it is accepted
 * @param maxConcurrentStreams HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; a stream over it is refused (REFUSED_STREAM)
 * @param maxStreamBufferBytes a stream's HTTP/2 receive window: what a client may send on one stream before
 *     the proxy has passed it on
 * @param maxConnectionBufferBytes the connection's receive window, shared by its streams; at least twice a
 *     stream's, so one stream alone cannot stall the others
 * @param firstByteTimeout accepted connection to its first byte
 * @param headerTimeout a connection's first byte to its first complete request headers
 * @param idleTimeout how long a connection may stay open without a stream (or HTTP/1.1 request) in progress;
 *     then it is closed gracefully
 * @param maxConnectionAge after this the connection gets GOAWAY and ends once its streams have (within the
 *     drain timeout), so long-lived clients reconnect and rebalance
 * @param keepaliveInterval a PING is sent when nothing was read for this long
 * @param keepaliveTimeout the connection is closed when nothing, not even the PING's ack, arrives this long
 *     after the PING
 * @param prematureResets how many streams an HTTP/2 client may reset before they were answered
 */
public record ListenerBudgets(
    int maxConnections,
    int maxConcurrentStreams,
    int maxStreamBufferBytes,
    int maxConnectionBufferBytes,
    Duration firstByteTimeout,
    Duration headerTimeout,
    Duration idleTimeout,
    Duration maxConnectionAge,
    Duration keepaliveInterval,
    Duration keepaliveTimeout,
    PrematureResetBudget prematureResets) {

  private static final int MIB = 1024 * 1024;

  /** Budgets with the default {@link PrematureResetBudget}. */
  public ListenerBudgets(int maxConnections, int maxConcurrentStreams, int maxStreamBufferBytes,
      int maxConnectionBufferBytes, Duration firstByteTimeout, Duration headerTimeout, Duration idleTimeout,
      Duration maxConnectionAge, Duration keepaliveInterval, Duration keepaliveTimeout) {
    this(maxConnections, maxConcurrentStreams, maxStreamBufferBytes, maxConnectionBufferBytes, firstByteTimeout,
        headerTimeout, idleTimeout, maxConnectionAge, keepaliveInterval, keepaliveTimeout, PrematureResetBudget.DEFAULT);
  }

  /** The mesh's own listeners (outbound, inbound): windows sized for large messages. */
  public static final ListenerBudgets MESH = new ListenerBudgets(1024, 100, MIB, 4 * MIB,
      Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ZERO,
      Duration.ofSeconds(30), Duration.ofSeconds(10));

  /** The inbound listener, reachable from any pod: connections are also aged, so callers rebalance. */
  public static final ListenerBudgets INBOUND = MESH.withMaxConnectionAge(Duration.ofMinutes(30));

  /** The internet-facing gateway: Envoy's edge windows (64 KiB per stream, 1 MiB per connection). */
  public static final ListenerBudgets GATEWAY = new ListenerBudgets(1024, 100, 64 * 1024, MIB,
      Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofMinutes(30),
      Duration.ofSeconds(30), Duration.ofSeconds(10));

  /** The admin port (HTTP/1.1: streams, windows, age and keepalive do not apply). */
  public static final ListenerBudgets ADMIN = new ListenerBudgets(64, 1, 64 * 1024, 128 * 1024,
      Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(1), Duration.ZERO,
      Duration.ZERO, Duration.ZERO);

  ListenerBudgets withMaxConnectionAge(Duration age) {
    return new ListenerBudgets(maxConnections, maxConcurrentStreams, maxStreamBufferBytes, maxConnectionBufferBytes,
        firstByteTimeout, headerTimeout, idleTimeout, age, keepaliveInterval, keepaliveTimeout, prematureResets);
  }
}
