package io.taskmesh.sidecar;

import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * The proxy's log line, {@value #PATTERN} in logback's pattern syntax, written in code: logback's
 * {@code PatternLayout} builds a table of some 70 converters and a lambda class for each before the first line,
 * a tenth of a second of every sidecar's start-up.
 */
final class ProxyLogLine extends LayoutBase<ILoggingEvent> {
  /** What this layout writes, in logback's pattern syntax (also what a logback.xml would say to get it). */
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
      .withZone(ZoneId.systemDefault());
  private final TargetLengthBasedClassNameAbbreviator loggerName = new TargetLengthBasedClassNameAbbreviator(20);

  @Override
  public String doLayout(ILoggingEvent event) {
    StringBuilder line = new StringBuilder(128);
    TIME.formatTo(Instant.ofEpochMilli(event.getTimeStamp()), line);
    String level = event.getLevel().toString();
    line.append(' ').append(level).append(" ".repeat(Math.max(0, 5 - level.length())));
    line.append(" [").append(event.getThreadName()).append("] ");
    line.append(loggerName.abbreviate(event.getLoggerName())).append(" - ").append(event.getFormattedMessage());
    line.append(CoreConstants.LINE_SEPARATOR);
    IThrowableProxy thrown = event.getThrowableProxy();
    if (thrown != null) {
      line.append(ThrowableProxyUtil.asString(thrown));
    }
    return line.toString();
  }
}
