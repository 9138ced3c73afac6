package io.taskmesh.sidecar.gateway;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id that ties one user request to its logs and trace: the caller's, when it sent a well-formed one
 * (so ids from a front proxy or the user's own client survive), a new random one otherwise.
 */
final class CorrelationIds {
  /** Letters, digits and {@code . _ : -}, 1 to 128 of them: safe in headers, logs and span attributes. */
  private static final Pattern WELL_FORMED = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private CorrelationIds() {}

  /**
   * @param configured the value of the configured correlation header, or null
   * @param requestId the value of {@code X-Request-ID}, or null
   */
  static String pick(String configured, String requestId) {
    if (configured != null && WELL_FORMED.matcher(configured).matches()) {
      return configured;
    }
    if (requestId != null && WELL_FORMED.matcher(requestId).matches()) {
      return requestId;
    }
    return UUID.randomUUID().toString();
  }
}
