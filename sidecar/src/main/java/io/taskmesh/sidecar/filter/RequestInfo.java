package io.taskmesh.sidecar.filter;

import io.netty.handler.codec.http2.Http2Headers;
import java.util.HashMap;
import java.util.Map;

/**
 * One request as filters see it: where it goes, its headers (as they will be sent on, so a filter may
 * add to them, e.g. trace context), and what filters attached to it on the way in for use when it
 * completes. Identity matters: two requests are never equal.
 */
public final class RequestInfo {
  private final String direction;
  private final String service;
  private final String method;
  private final long startNanos;
  private final Http2Headers headers;
  private Map<Class<?>, Object> attachments;

  /**
   * @param direction {@code inbound}, {@code outbound} or {@code gateway}
   * @param service the routed service, or the requested target when nothing matched
   * @param method the gRPC method path, e.g. {@code /taskservice.TaskService/GetTask}
   */
  public RequestInfo(String direction, String service, String method, long startNanos, Http2Headers headers) {
    this.direction = direction;
    this.service = service;
    this.method = method;
    this.startNanos = startNanos;
    this.headers = headers;
  }

  public String direction() {
    return direction;
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
