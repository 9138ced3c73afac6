package io.taskmesh.sidecar.capture;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Opaque TCP forwarding, counted per listener direction and destination port:
 * {@code taskmesh_tcp_connections_total{direction,port,result}} ({@code forwarded}, {@code connect_failed}),
 * {@code taskmesh_tcp_sent_bytes_total{direction,port}} (towards the destination) and
 * {@code taskmesh_tcp_received_bytes_total{direction,port}} (back from it).
 */
public final class TcpMetrics {
  private final MeterRegistry registry;
  private final String direction;

  public TcpMetrics(MeterRegistry registry, String direction) {
    this.registry = registry;
    this.direction = direction;
  }

  Counter connections(int port, String result) {
    return Counter.builder("taskmesh.tcp.connections").tag("direction", direction).tag("port", Integer.toString(port))
        .tag("result", result).register(registry);
  }

  Counter sentBytes(int port) {
    return Counter.builder("taskmesh.tcp.sent.bytes").tag("direction", direction).tag("port", Integer.toString(port))
        .register(registry);
  }

  Counter receivedBytes(int port) {
    return Counter.builder("taskmesh.tcp.received.bytes").tag("direction", direction)
        .tag("port", Integer.toString(port)).register(registry);
  }
}
