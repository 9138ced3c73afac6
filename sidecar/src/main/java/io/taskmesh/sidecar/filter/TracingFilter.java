package io.taskmesh.sidecar.filter;

import io.grpc.Status;
import io.netty.handler.codec.http2.Http2Headers;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A span per hop: SERVER for inbound and gateway requests, CLIENT for outbound ones, child of the trace
 * context the request carries (W3C traceparent, or B3 single or multi header when configured). The
 * request leaves with this span's context as W3C headers (B3 is read, not written) and the stale trace
 * headers removed, so the next hop continues the same trace.
 */
public final class TracingFilter implements StreamFilter {
  /** Trace headers a hop replaces with its own context (B3 ones too, so an old parent cannot win downstream). */
  private static final List<String> TRACE_HEADERS = List.of(
      "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
      "x-b3-flags");
  /** Statuses that mark a SERVER span as failed (OpenTelemetry's gRPC conventions); a CLIENT span fails on any non-OK. */
  private static final Set<String> SERVER_ERRORS =
      Set.of("UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS");

  private final Tracer tracer;
  private final TextMapPropagator reader;
  private final TextMapPropagator writer;

  /** @param propagators of {@code tracecontext}, {@code baggage}, {@code b3}, {@code b3multi} */
  public TracingFilter(OpenTelemetry openTelemetry, List<String> propagators) {
    this.tracer = openTelemetry.getTracer("io.taskmesh.sidecar");
    this.reader = readers(propagators);
    this.writer = writers(propagators);
  }

  @Override
  public java.util.Optional<io.taskmesh.sidecar.codec.ProxyError> onRequest(RequestInfo request) {
    Http2Headers headers = request.headers();
    Context parent = reader.extract(Context.root(), headers, Http2HeadersGetter.INSTANCE);
    String method = request.method().startsWith("/") ? request.method().substring(1) : request.method();
    int slash = method.indexOf('/');
    Span span = tracer.spanBuilder(method.isEmpty() ? request.service() : method)
        .setParent(parent)
        .setSpanKind(request.direction().equals("outbound") ? SpanKind.CLIENT : SpanKind.SERVER)
        .setAttribute("rpc.system", "grpc")
        .setAttribute("rpc.service", slash > 0 ? method.substring(0, slash) : method)
        .setAttribute("rpc.method", slash > 0 ? method.substring(slash + 1) : "")
        .setAttribute("taskmesh.direction", request.direction())
        .setAttribute("taskmesh.service", request.service())
        .startSpan();
    request.peer().ifPresent(peer -> span.setAttribute("taskmesh.peer.identity", peer.uri()));
    for (String name : TRACE_HEADERS) {
      headers.remove(name);
    }
    writer.inject(parent.with(span), headers, (carrier, key, value) -> carrier.set(key, value));
    request.attach(Span.class, span);
    return java.util.Optional.empty();
  }

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    Span span = request.attachment(Span.class);
    if (span == null) {
      return;
    }
    span.setAttribute("rpc.grpc.status_code", statusNumber(outcome.code()));
    if (outcome.endpoint() != null) {
      int colon = outcome.endpoint().lastIndexOf(':');
      span.setAttribute("net.peer.name", colon > 0 ? outcome.endpoint().substring(0, colon) : outcome.endpoint());
      if (colon > 0) {
        span.setAttribute("net.peer.port", Long.parseLong(outcome.endpoint().substring(colon + 1)));
      }
    }
    if (outcome.proxyGenerated()) {
      span.setAttribute("taskmesh.proxy_generated", true);
    }
    boolean failed = request.direction().equals("outbound")
        ? !outcome.code().equals("OK") : SERVER_ERRORS.contains(outcome.code());
    if (failed) {
      span.setStatus(StatusCode.ERROR, outcome.code());
    }
    span.end();
  }

  private static long statusNumber(String name) {
    try {
      return Status.Code.valueOf(name).value();
    } catch (IllegalArgumentException e) {
      return Status.Code.UNKNOWN.value();
    }
  }

  /** B3 first, W3C last: when a request carries both, the W3C context wins. */
  private static TextMapPropagator readers(List<String> names) {
    List<TextMapPropagator> readers = new ArrayList<>();
    if (names.contains("b3") || names.contains("b3multi")) {
      readers.add(B3Propagator.injectingSingleHeader()); // extracts both the single and the multi header form
    }
    if (names.contains("baggage")) {
      readers.add(W3CBaggagePropagator.getInstance());
    }
    readers.add(W3CTraceContextPropagator.getInstance());
    return TextMapPropagator.composite(readers);
  }

  /** W3C only: B3 is read, never written. */
  private static TextMapPropagator writers(List<String> names) {
    List<TextMapPropagator> writers = new ArrayList<>();
    writers.add(W3CTraceContextPropagator.getInstance());
    if (names.contains("baggage")) {
      writers.add(W3CBaggagePropagator.getInstance());
    }
    return TextMapPropagator.composite(writers);
  }

  private enum Http2HeadersGetter implements TextMapGetter<Http2Headers> {
    INSTANCE;

    @Override
    public Iterable<String> keys(Http2Headers carrier) {
      List<String> keys = new ArrayList<>(carrier.size());
      carrier.names().forEach(name -> keys.add(name.toString()));
      return keys;
    }

    @Override
    public String get(Http2Headers carrier, String key) {
      // HTTP/2 header names are lower case; propagators ask for e.g. "X-B3-TraceId"
      CharSequence value = carrier == null ? null : carrier.get(key.toLowerCase(java.util.Locale.ROOT));
      return value == null ? null : value.toString();
    }
  }
}
