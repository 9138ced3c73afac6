package io.taskmesh.tracing;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;

/**
 * Makes {@link ZipkinSpanExporter} the {@code zipkin} exporter of OpenTelemetry's autoconfiguration, so an
 * app run with the OpenTelemetry javaagent (whose 2.x versions no longer carry a Zipkin exporter) can send
 * its spans to Zipkin: {@code -Dotel.javaagent.extensions=tracing.jar}, {@code OTEL_TRACES_EXPORTER=zipkin},
 * {@code OTEL_EXPORTER_ZIPKIN_ENDPOINT=http://zipkin:9411/api/v2/spans}.
 */
public final class ZipkinSpanExporterProvider implements ConfigurableSpanExporterProvider {
  @Override
  public String getName() {
    return "zipkin";
  }

  @Override
  public SpanExporter createExporter(ConfigProperties config) {
    String endpoint = config.getString("otel.exporter.zipkin.endpoint", "http://localhost:9411/api/v2/spans");
    Duration timeout = config.getDuration("otel.exporter.zipkin.timeout", Duration.ofSeconds(5));
    return ZipkinSpanExporter.forEndpoint(endpoint, timeout);
  }
}
