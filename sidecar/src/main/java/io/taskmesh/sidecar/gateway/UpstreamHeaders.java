package io.taskmesh.sidecar.gateway;

import io.grpc.Metadata;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * The metadata a transcoded call carries upstream: the correlation id, and the caller's trace context so
 * the outbound chain's span continues the caller's trace.
 */
final class UpstreamHeaders {
  private static final List<String> TRACE_HEADERS = List.of("traceparent", "tracestate", "baggage", "b3",
      "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags");

  private UpstreamHeaders() {}

  static Metadata of(HttpHeaders request, String correlationHeader, String correlationId) {
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of(correlationHeader, Metadata.ASCII_STRING_MARSHALLER), correlationId);
    for (String name : TRACE_HEADERS) {
      String value = request.get(name);
      if (value != null) {
        metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
      }
    }
    return metadata;
  }
}
