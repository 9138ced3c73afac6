package io.taskmesh.taskservice;

/**
 * Where the app's own spans go. Named after OpenTelemetry's standard variables
 * ({@code OTEL_TRACES_EXPORTER}, {@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code OTEL_EXPORTER_ZIPKIN_ENDPOINT},
 * {@code OTEL_SERVICE_NAME}) so that users find them where they expect.
 *
 * @param exporter {@code none}, {@code otlp} or {@code zipkin}
 */
public record TracingOptions(String exporter, String endpoint, String serviceName, double samplingRatio) {
  public static TracingOptions none() {
    return new TracingOptions("none", "", "task-service", 1.0);
  }

  public static TracingOptions zipkin(String endpoint, String serviceName) {
    return new TracingOptions("zipkin", endpoint, serviceName, 1.0);
  }

  public boolean enabled() {
    return !exporter.equals("none");
  }
}
