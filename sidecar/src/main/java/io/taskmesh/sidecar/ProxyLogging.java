package io.taskmesh.sidecar;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.function.Predicate;

/**
 * The proxy's logging, set up in code: one {@link ProxyLogLine} per event on stdout, Netty and grpc-java at WARN.
 * Logback's XML configuration alone loads some 400 classes (its model, its actions and the JDK's XML parser), a
 * few MB of class metadata in every sidecar and part of its start-up. Found by logback's service loader; a classpath with
 * its own {@code logback-test.xml} or {@code logback.xml}, or {@code -Dlogback.configurationFile}, is left to
 * logback's usual configuration.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class ProxyLogging extends ContextAwareBase implements Configurator {
  private final Predicate<String> onClasspath;

  /** As logback's service loader makes it: looks for configuration files on this class's classpath. */
  public ProxyLogging() {
    this(name -> ProxyLogging.class.getClassLoader().getResource(name) != null);
  }

  ProxyLogging(Predicate<String> onClasspath) {
    this.onClasspath = onClasspath;
  }

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null || onClasspath.test("logback-test.xml")
        || onClasspath.test("logback.xml")) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    ProxyLogLine layout = new ProxyLogLine();
    layout.setContext(context);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("STDOUT");
    console.setEncoder(encoder);
    console.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(console);
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.grpc").setLevel(Level.WARN);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
