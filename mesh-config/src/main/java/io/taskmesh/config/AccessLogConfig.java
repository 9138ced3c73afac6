package io.taskmesh.config;

/**
 * The proxy's access log: one structured line per request, off unless enabled.
 *
 * @param sampleRatio share of requests logged, 0.0 to 1.0
 */
public record AccessLogConfig(boolean enabled, double sampleRatio) {
  public static final AccessLogConfig DEFAULT = new AccessLogConfig(false, 1.0);
}
