package io.taskmesh.tracing;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.Locale;

/**
 * The one OpenTelemetry SDK set-up of taskmesh processes: W3C trace context and baggage propagators,
 * parent-based ratio sampling, a batch span
 * processor (its own thread and a bounded queue, so exporting never blocks a request and a dead collector
 * only drops spans), and export by OTLP/HTTP or to Zipkin.
 */
public final class TracingSetup {
  private static final Duration EXPORT_TIMEOUT = Duration.ofSeconds(5);
  private static final ContextPropagators W3C = ContextPropagators.create(TextMapPropagator.composite(
      W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()));

  private TracingSetup() {}

  /**
   * @param exporter {@code otlp}, {@code zipkin} or {@code none}
   * @param endpoint the collector's base URL, e.g. {@code http://otel-collector:4318} or {@code http://zipkin:9411}
   * @return an SDK that records nothing when {@code exporter} is {@code none}
   */
  public static OpenTelemetrySdk create(String serviceName, String exporter, String endpoint, double samplingRatio) {
    String kind = exporter.toLowerCase(Locale.ROOT);
    if (kind.equals("none")) {
      return OpenTelemetrySdk.builder().setPropagators(W3C).build();
    }
    SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(
            Attributes.of(AttributeKey.stringKey("service.name"), serviceName))))
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(samplingRatio)))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter(kind, endpoint))
            .setScheduleDelay(Duration.ofMillis(500))
            .setMaxQueueSize(4096)
            .build())
        .build();
    return OpenTelemetrySdk.builder().setTracerProvider(tracerProvider).setPropagators(W3C).build();
  }

  static SpanExporter exporter(String kind, String endpoint) {
    String base = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    return switch (kind) {
      case "otlp" -> OtlpHttpSpanExporter.builder()
          .setEndpoint(base.endsWith("/v1/traces") ? base : base + "/v1/traces")
          .setTimeout(EXPORT_TIMEOUT)
          .build();
      case "zipkin" -> ZipkinSpanExporter.forEndpoint(endpoint, EXPORT_TIMEOUT);
      default -> throw new IllegalArgumentException(
          "tracing exporter '" + kind + "' is not one of otlp, zipkin, none");
    };
  }
}
