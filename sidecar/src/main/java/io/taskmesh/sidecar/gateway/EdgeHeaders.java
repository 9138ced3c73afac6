package io.taskmesh.sidecar.gateway;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import io.taskmesh.sidecar.listener.StreamGate;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * What the gateway does to the headers of a request from outside the mesh before the mesh sees them: the
 * proxy's own headers ({@code taskmesh-internal}, {@code taskmesh-error}) are dropped, since no internet
 * client speaks for the mesh; and a trace context keeps its trace id but not its sampling decision, which the
 * gateway takes itself (its sampling ratio applied to that trace id), so a client cannot force every hop of
 * the mesh to record and export its requests.
 */
final class EdgeHeaders {
  private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}");
  private static final Pattern B3_SINGLE = Pattern.compile("([0-9a-f]{16}|[0-9a-f]{32})-([0-9a-f]{16})(-[01d])?(-[0-9a-f]{16})?");

  private final Sampler sampler;

  EdgeHeaders(double samplingRatio) {
    this.sampler = Sampler.traceIdRatioBased(samplingRatio);
  }

  /**
   * @param get a header's value, or null
   * @param set sets a header, or removes it when the value is null
   */
  void sanitize(Function<String, String> get, BiConsumer<String, String> set) {
    StreamGate.INTERNAL_HEADERS.forEach(name -> set.accept(name, null));
    String traceparent = get.apply("traceparent");
    if (traceparent != null) {
      var parsed = TRACEPARENT.matcher(traceparent.trim());
      set.accept("traceparent", parsed.matches()
          ? "00-" + parsed.group(1) + "-" + parsed.group(2) + (sampled(parsed.group(1)) ? "-01" : "-00")
          : null);
    }
    String b3 = get.apply("b3");
    if (b3 != null) {
      var parsed = B3_SINGLE.matcher(b3.trim());
      set.accept("b3", parsed.matches()
          ? parsed.group(1) + "-" + parsed.group(2) + (sampled(parsed.group(1)) ? "-1" : "-0")
              + (parsed.group(4) == null ? "" : parsed.group(4))
          : null); // a bare decision ("1", "d") is exactly what a client may not impose
    }
    set.accept("x-b3-flags", null); // "1" is B3's debug flag: sample regardless
    String b3TraceId = get.apply("x-b3-traceid");
    set.accept("x-b3-sampled", b3TraceId == null ? null : sampled(b3TraceId.trim()) ? "1" : "0");
  }

  private boolean sampled(String traceId) {
    String padded = traceId.length() == 16 ? "0000000000000000" + traceId : traceId;
    return sampler.shouldSample(Context.root(), padded, "gateway", SpanKind.SERVER, Attributes.empty(), List.of())
        .getDecision() == SamplingDecision.RECORD_AND_SAMPLE;
  }
}
