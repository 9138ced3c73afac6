package io.taskmesh.sidecar.filter;

import io.netty.handler.codec.http2.Http2Headers;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.sidecar.codec.ProxyError;
import io.taskmesh.sidecar.route.CallPolicy;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One request as filters see it: where it goes, its headers (as they will be sent on, so a filter may
 * add to them, e.g. trace context), and what filters attached to it on the way in for use when it
 * completes. Identity matters: two requests are never equal.
 */
public final class RequestInfo {
  private final String direction;
  private final String hop;
  private final String service;
  private final String method;
  private final long startNanos;
  private final Http2Headers headers;
  private final CallPolicy policy;
  private final Optional<SpiffeId> peer;
  private Map<Class<?>, Object> attachments;

  /**
   * @param direction {@code inbound}, {@code outbound} or {@code gateway}
   * @param hop the name the proxy gives itself in errors on this chain: {@code client-sidecar},
   *     {@code server-sidecar} or {@code gateway}
   * @param service the routed service, or the requested target when nothing matched
   * @param method the gRPC method path, e.g. {@code /taskservice.TaskService/GetTask}
   * @param policy the policy the request got when it started, from the config in force then
   * @param peer the identity the caller's connection proved by mTLS; empty for plaintext
   */
  public RequestInfo(String direction, String hop, String service, String method, long startNanos,
      Http2Headers headers, CallPolicy policy, Optional<SpiffeId> peer) {
    this.direction = direction;
    this.hop = hop;
    this.service = service;
    this.method = method;
    this.startNanos = startNanos;
    this.headers = headers;
    this.policy = policy;
    this.peer = peer;
  }

  /** Who called, as the caller's mTLS certificate proved; empty for a plaintext connection. */
  public Optional<SpiffeId> peer() {
    return peer;
  }

  public String direction() {
    return direction;
  }

  public String hop() {
    return hop;
  }

  /** One policy for the whole request: its filters, tries and timers all read this one. */
  public CallPolicy policy() {
    return policy;
  }

  /** An answer this hop makes itself about the request's service. */
  public ProxyError error(int grpcStatus, String reason, String detail) {
    return new ProxyError(hop, "service '" + service + "'", grpcStatus, reason, detail);
  }

  /** An answer this hop makes itself about one endpoint of the request's service. */
  public ProxyError error(Object endpoint, int grpcStatus, String reason, String detail) {
    return new ProxyError(hop, "service '" + service + "' endpoint " + endpoint, grpcStatus, reason, detail);
  }

  public String service() {
    return service;
  }

  public String method() {
    return method;
  }

  public long startNanos() {
    return startNanos;
  }

  /** The request headers that will be sent upstream; filters may set headers here in {@code onRequest}. */
  public Http2Headers headers() {
    return headers;
  }

  /** Keeps {@code value} with this request until it completes; one value per type. */
  public synchronized <T> void attach(Class<T> type, T value) {
    if (attachments == null) {
      attachments = new HashMap<>(4);
    }
    attachments.put(type, value);
  }

  /** What was attached under {@code type}, or null. */
  public synchronized <T> T attachment(Class<T> type) {
    return attachments == null ? null : type.cast(attachments.get(type));
  }
}
