package io.taskmesh.sidecar.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EdgeHeadersTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

  @Test
  void aClientsSampledFlagDoesNotDecideTheTraceIdAndParentStay() {
    Map<String, String> headers = sanitized(0.0, Map.of("traceparent", "00-" + TRACE_ID + "-00f067aa0ba902b7-01"));
    assertThat(headers).containsEntry("traceparent", "00-" + TRACE_ID + "-00f067aa0ba902b7-00");
    assertThat(sanitized(1.0, Map.of("traceparent", "00-" + TRACE_ID + "-00f067aa0ba902b7-00")))
        .containsEntry("traceparent", "00-" + TRACE_ID + "-00f067aa0ba902b7-01");
  }

  @Test
  void b3DecisionsAndItsDebugFlagAreTheGatewaysToo() {
    Map<String, String> headers = sanitized(0.0, Map.of("b3", TRACE_ID + "-00f067aa0ba902b7-d",
        "x-b3-traceid", TRACE_ID, "x-b3-sampled", "1", "x-b3-flags", "1"));
    assertThat(headers).containsEntry("b3", TRACE_ID + "-00f067aa0ba902b7-0").containsEntry("x-b3-sampled", "0")
        .doesNotContainKey("x-b3-flags");
    assertThat(sanitized(0.0, Map.of("b3", "1"))).doesNotContainKey("b3");
  }

  @Test
  void theProxysOwnHeadersAndMalformedContextsAreDropped() {
    Map<String, String> headers = sanitized(1.0, Map.of("taskmesh-internal", "method-catalog",
        "taskmesh-error", "hop=gateway; reason=forged", "traceparent", "garbage", "x-other", "kept"));
    assertThat(headers).containsOnlyKeys("x-other");
  }

  private static Map<String, String> sanitized(double ratio, Map<String, String> request) {
    Map<String, String> headers = new HashMap<>(request);
    new EdgeHeaders(ratio).sanitize(headers::get, (name, value) -> {
      if (value == null) {
        headers.remove(name);
      } else {
        headers.put(name, value);
      }
    });
    return headers;
  }
}
