package io.taskmesh.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sends spans to a Zipkin server's {@code POST /api/v2/spans} as Zipkin v2 JSON. OpenTelemetry stopped
 * publishing its Zipkin exporter (1.65) and the Zipkin server on Maven Central has no OTLP receiver, so
 * this small mapping is ours. Sending is asynchronous and bounded by a timeout; a failed batch is dropped,
 * never retried, so a dead collector costs nothing but the lost spans.
 */
public final class ZipkinSpanExporter implements SpanExporter {
  private static final String SPANS_PATH = "/api/v2/spans";
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

  private final URI spansUri;
  private final HttpClient http;
  private final Duration timeout;

  /**
   * @param endpoint the Zipkin server's base URL ({@code http://zipkin:9411}) or its spans URL
   *     ({@code http://zipkin:9411/api/v2/spans})
   */
  public static ZipkinSpanExporter forEndpoint(String endpoint, Duration timeout) {
    String base = endpoint.replaceAll("/+$", "");
    return new ZipkinSpanExporter(URI.create(base.endsWith(SPANS_PATH) ? base : base + SPANS_PATH), timeout);
  }

  public ZipkinSpanExporter(URI spansUri, Duration timeout) {
    this.spansUri = spansUri;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    CompletableResultCode result = new CompletableResultCode();
    HttpRequest request = HttpRequest.newBuilder(spansUri)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(toJson(spans)))
        .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
      if (error == null && response.statusCode() / 100 == 2) {
        result.succeed();
      } else {
        result.fail();
      }
    });
    return result;
  }

  @Override
  public CompletableResultCode flush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    return CompletableResultCode.ofSuccess();
  }

  static String toJson(Collection<SpanData> spans) {
    StringBuilder json = new StringBuilder(256 * spans.size()).append('[');
    String separator = "";
    for (SpanData span : spans) {
      json.append(separator);
      appendSpan(json, span);
      separator = ",";
    }
    return json.append(']').toString();
  }

  private static void appendSpan(StringBuilder json, SpanData span) {
    long startMicros = TimeUnit.NANOSECONDS.toMicros(span.getStartEpochNanos());
    long durationMicros = Math.max(1, TimeUnit.NANOSECONDS.toMicros(span.getEndEpochNanos() - span.getStartEpochNanos()));
    json.append("{\"traceId\":\"").append(span.getTraceId())
        .append("\",\"id\":\"").append(span.getSpanId()).append('"');
    if (span.getParentSpanContext().isValid()) {
      json.append(",\"parentId\":\"").append(span.getParentSpanId()).append('"');
    }
    json.append(",\"name\":").append(quote(span.getName()));
    String kind = zipkinKind(span.getKind());
    if (kind != null) {
      json.append(",\"kind\":\"").append(kind).append('"');
    }
    json.append(",\"timestamp\":").append(startMicros).append(",\"duration\":").append(durationMicros);
    String serviceName = span.getResource().getAttribute(SERVICE_NAME);
    json.append(",\"localEndpoint\":{\"serviceName\":").append(quote(serviceName == null ? "unknown" : serviceName))
        .append('}');
    json.append(",\"tags\":{");
    String separator = "";
    for (Map.Entry<AttributeKey<?>, Object> attribute : span.getAttributes().asMap().entrySet()) {
      json.append(separator).append(quote(attribute.getKey().getKey())).append(':')
          .append(quote(String.valueOf(attribute.getValue())));
      separator = ",";
    }
    if (span.getStatus().getStatusCode() == StatusCode.ERROR) {
      String description = span.getStatus().getDescription();
      json.append(separator).append("\"error\":").append(quote(description.isEmpty() ? "true" : description));
    }
    json.append("}}");
  }

  private static String zipkinKind(SpanKind kind) {
    return switch (kind) {
      case SERVER -> "SERVER";
      case CLIENT -> "CLIENT";
      case PRODUCER -> "PRODUCER";
      case CONSUMER -> "CONSUMER";
      case INTERNAL -> null;
    };
  }

  static String quote(String value) {
    StringBuilder quoted = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> quoted.append("\\\"");
        case '\\' -> quoted.append("\\\\");
        case '\n' -> quoted.append("\\n");
        case '\r' -> quoted.append("\\r");
        case '\t' -> quoted.append("\\t");
        default -> {
          if (c < 0x20) {
            quoted.append(String.format("\\u%04x", (int) c));
          } else {
            quoted.append(c);
          }
        }
      }
    }
    return quoted.append('"').toString();
  }
}
