package io.taskmesh.sidecar.listener;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.overload.OverloadManager;
import java.net.SocketAddress;
import java.util.List;
import java.util.function.Predicate;

/**
 * What each new stream passes first, before anything is routed or buffered for it: while the proxy is overloaded
 * it is answered RESOURCE_EXHAUSTED ({@code reason=overloaded}); a stream from a connection that is not a mesh peer
 * loses the proxy's own headers ({@code taskmesh-internal}, {@code taskmesh-error}), which only another sidecar may
 * send. One gate serves every connection of a listener; it keeps no state of its own.
 */
public final class StreamGate {
  /** Headers only proxies of the mesh may send; from anyone else they are dropped. */
  public static final List<String> INTERNAL_HEADERS = List.of("taskmesh-internal", "taskmesh-error");

  private final String hop;
  private final OverloadManager overload;
  private final String listener;
  private final Predicate<SocketAddress> meshPeer;

  /** @param meshPeer whether a connection's peer speaks for the mesh (may send internal headers) */
  StreamGate(String hop, OverloadManager overload, String listener, Predicate<SocketAddress> meshPeer) {
    this.hop = hop;
    this.overload = overload;
    this.listener = listener;
    this.meshPeer = meshPeer;
  }

  /**
   * Null when the new stream with {@code headers} on {@code connection} may go on (its internal headers dropped
   * unless the connection is a mesh peer's); else the answer that refuses it, counted as refused.
   */
  ProxyError admit(Channel connection, Http2Headers headers) {
    String cause = overload.cause();
    if (cause != null) {
      overload.refused(listener);
      return refusal(hop, cause);
    }
    stripInternalHeaders(connection, headers);
    return null;
  }

  private void stripInternalHeaders(Channel connection, Http2Headers headers) {
    boolean any = false;
    for (String name : INTERNAL_HEADERS) {
      any |= headers.contains(name);
    }
    if (any && !meshPeer.test(connection.remoteAddress())) {
      INTERNAL_HEADERS.forEach(headers::remove);
    }
  }

  /** The answer to a stream refused because the proxy is overloaded. */
  public static ProxyError refusal(String hop, String cause) {
    return new ProxyError(hop, "this proxy", ProxyError.RESOURCE_EXHAUSTED, "overloaded",
        "overloaded, new streams are refused: " + cause, 1_000);
  }
}
