package io.taskmesh.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProxyLoggingTest {

  @Test
  void withoutAConfigurationFileTheProxyLogsToStdoutWithNettyAndGrpcAtWarn() {
    LoggerContext context = new LoggerContext();
    ProxyLogging logging = new ProxyLogging(name -> false);
    logging.setContext(context);

    assertThat(logging.configure(context)).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.INFO);
    ConsoleAppender<?> console = (ConsoleAppender<?>) root.getAppender("STDOUT");
    assertThat(console.isStarted()).isTrue();
    assertThat(((LayoutWrappingEncoder<?>) console.getEncoder()).getLayout()).isInstanceOf(ProxyLogLine.class);
    assertThat(context.getLogger("io.netty.handler.codec.http2").getEffectiveLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.grpc.internal").getEffectiveLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.taskmesh.sidecar").getEffectiveLevel()).isEqualTo(Level.INFO);
  }

  @Test
  void theProxysLineIsWhatLogbacksPatternMakesOfItsPattern() {
    LoggerContext context = new LoggerContext();
    PatternLayout pattern = new PatternLayout();
    pattern.setContext(context);
    pattern.setPattern(ProxyLogLine.PATTERN);
    pattern.start();
    ProxyLogLine line = new ProxyLogLine();
    line.setContext(context);
    line.start();
    Logger shortName = context.getLogger("io.taskmesh.sidecar.Main");
    Logger longName = context.getLogger("io.taskmesh.sidecar.discovery.ControlPlaneEndpointSource");
    IllegalStateException cause = new IllegalStateException("refused", new java.io.IOException("reset"));

    for (LoggingEvent event : java.util.List.of(
        new LoggingEvent("fqcn", shortName, Level.INFO, "event=started admin={}", null, new Object[] {9901}),
        new LoggingEvent("fqcn", longName, Level.WARN, "event=stream_closed", null, null),
        new LoggingEvent("fqcn", longName, Level.ERROR, "event=failed reason=\"{}\"", cause, new Object[] {"x"}))) {
      assertThat(line.doLayout(event)).isEqualTo(pattern.doLayout(event));
    }
  }

  @Test
  void aLogbackFileOnTheClasspathIsLeftToLogbacksOwnConfiguration() {
    for (String file : Set.of("logback.xml", "logback-test.xml")) {
      LoggerContext context = new LoggerContext();
      ProxyLogging logging = new ProxyLogging(file::equals);
      logging.setContext(context);

      assertThat(logging.configure(context)).as(file).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDOUT")).as(file).isNull();
    }
  }
}
