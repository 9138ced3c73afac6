package io.taskmesh.config;

import java.util.List;

/**
 * @param exporter {@code otlp}, {@code zipkin} or {@code none}
 * @param endpoint the collector's base URL
 * @param samplingRatio share of new traces sampled, 0.0 to 1.0 (parent-based: a sampled parent is always kept)
 * @param propagators of {@code tracecontext}, {@code baggage}, {@code b3}, {@code b3multi}
 */
public record TracingConfig(String exporter, String endpoint, double samplingRatio, List<String> propagators) {

  public TracingConfig {
    propagators = List.copyOf(propagators);
  }

  public boolean enabled() {
    return !exporter.equals("none");
  }
}
