package io.taskmesh.sidecar.cluster;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTP/2 connections to one endpoint: streams share a connection until the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS is reached, then another connection opens. Connections belong to
 * the event loop of the caller that asked for them (as Envoy's per-worker pools do), so a proxied
 * stream's two sides run on one thread and no frame crosses threads. A draining pool opens nothing
 * new and closes each connection once its last stream is done.
 */
final class EndpointConnectionPool {
  private final UpstreamConnector connector;
  private final Endpoint endpoint;
  private final List<UpstreamConnection> connections = new ArrayList<>();
  private boolean draining;

  EndpointConnectionPool(UpstreamConnector connector, Endpoint endpoint) {
    this.connector = connector;
    this.endpoint = endpoint;
  }

  /** A new stream on a connection run by {@code loop}, the event loop of the downstream stream. */
  synchronized Future<UpstreamStream> openStream(UpstreamStream.Receiver receiver, EventLoop loop) {
    connections.removeIf(UpstreamConnection::isClosed);
    UpstreamConnection usable = null;
    for (UpstreamConnection connection : connections) {
      if (connection.eventLoop() == loop && connection.acceptsStreams()) {
        usable = connection;
        break;
      }
    }
    if (usable == null) {
      usable = new UpstreamConnection(connector, endpoint, loop, this::closeIdleIfDraining);
      connections.add(usable);
    }
    return usable.openStream(receiver);
  }

  synchronized int connectionCount() {
    connections.removeIf(UpstreamConnection::isClosed);
    return connections.size();
  }

  /** Streams the pool's connections hold in their maps now: zero once every call on them is over. */
  int mappedStreams() {
    List<UpstreamConnection> now;
    synchronized (this) {
      now = new ArrayList<>(connections);
    }
    int sum = 0;
    for (UpstreamConnection connection : now) {
      sum += connection.mappedStreams();
    }
    return sum;
  }

  synchronized void drain() {
    draining = true;
    closeIdleIfDraining();
  }

  private synchronized void closeIdleIfDraining() {
    if (!draining) {
      return;
    }
    connections.removeIf(connection -> {
      if (connection.openStreams() == 0) {
        connection.close();
        return true;
      }
      return false;
    });
  }
}
