package io.taskmesh.e2e.zipkin;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/** One span as Zipkin's v2 API returns it (the fields a trace tree needs). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Span(
    String traceId,
    String id,
    String parentId,
    String name,
    String kind,
    long timestamp,
    long duration,
    Endpoint localEndpoint,
    Map<String, String> tags) {

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Endpoint(String serviceName) {}

  public String serviceName() {
    return localEndpoint == null ? "?" : localEndpoint.serviceName();
  }

  public Map<String, String> tags() {
    return tags == null ? Map.of() : tags;
  }
}
