package io.taskmesh.sidecar.filter;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.taskmesh.config.AccessLogConfig;
import io.taskmesh.identity.SpiffeId;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One key=value line per request on the logger {@value #LOGGER}, when the request's config enables it
 * ({@code accessLog.enabled}), for a {@code sampleRatio} share of requests. Fields: direction, service,
 * method, code, duration_ms, endpoint ({@code -} when none was reached), proxy_generated, peer (the
 * caller's SPIFFE ID proven by mTLS, {@code -} for plaintext) and trace_id when the request has a span. Byte counts are not logged: the proxy does not count bodies.
 */
public final class AccessLogFilter implements StreamFilter {
  public static final String LOGGER = "taskmesh.access";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  @Override
  public void onComplete(RequestInfo request, Outcome outcome) {
    AccessLogConfig config = request.policy().accessLog();
    if (!config.enabled() || !log.isInfoEnabled()
        || (config.sampleRatio() < 1.0 && ThreadLocalRandom.current().nextDouble() >= config.sampleRatio())) {
      return;
    }
    StringBuilder line = new StringBuilder(200)
        .append("direction=").append(request.direction())
        .append(" service=").append(value(request.service()))
        .append(" method=").append(value(request.method()))
        .append(" code=").append(outcome.code())
        .append(" duration_ms=").append(String.format(Locale.ROOT, "%.3f", outcome.durationNanos() / 1e6))
        .append(" endpoint=").append(outcome.endpoint() == null ? "-" : outcome.endpoint())
        .append(" proxy_generated=").append(outcome.proxyGenerated())
        .append(" peer=").append(request.peer().map(SpiffeId::uri).orElse("-"));
    Span span = request.attachment(Span.class);
    SpanContext context = span == null ? SpanContext.getInvalid() : span.getSpanContext();
    if (context.isValid()) {
      line.append(" trace_id=").append(context.getTraceId());
    }
    log.info(line.toString());
  }

  /** Caller-chosen text (the path, the authority) quoted when it could break the key=value form. */
  private static String value(String text) {
    if (!text.isEmpty() && text.chars().allMatch(c -> c > ' ' && c < 127 && c != '"' && c != '=')) {
      return text;
    }
    StringBuilder quoted = new StringBuilder(text.length() + 2).append('"');
    text.chars().forEach(c -> {
      if (c == '"' || c == '\\') {
        quoted.append('\\').append((char) c);
      } else if (c < ' ' || c == 127) {
        quoted.append(String.format(Locale.ROOT, "\\x%02x", c));
      } else {
        quoted.append((char) c);
      }
    });
    return quoted.append('"').toString();
  }
}
