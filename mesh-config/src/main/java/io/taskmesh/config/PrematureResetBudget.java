package io.taskmesh.config;

import java.time.Duration;

/**
 * How many streams an HTTP/2 client may reset before the proxy has answered them (the rapid-reset attack,
 * CVE-2023-44487, opens and resets streams as fast as it can, so none of them counts against
 * SETTINGS_MAX_CONCURRENT_STREAMS). A reset is premature when it comes before the proxy began the response and
 * within {@code within} of the stream's opening: a caller whose deadline expires, even on most of its calls,
 * resets streams that lived as long as that deadline. The connection gets GOAWAY(ENHANCE_YOUR_CALM) once its
 * premature resets exceed both {@code burst} and {@code percentOfStreams} percent of the streams it opened.
 *
 * @param burst premature resets every connection may send
 * @param percentOfStreams beyond the burst, the share of the connection's streams it may reset prematurely; 100
 *     turns the budget off
 * @param within a reset later than this after the stream opened is never premature
 */
public record PrematureResetBudget(int burst, int percentOfStreams, Duration within) {
  public static final PrematureResetBudget DEFAULT = new PrematureResetBudget(200, 50, Duration.ofMillis(100));

  /** True when {@code premature} resets out of {@code opened} streams are over this budget. */
  public boolean exceededBy(long premature, long opened) {
    return premature > burst && premature * 100 > percentOfStreams * opened;
  }
}
