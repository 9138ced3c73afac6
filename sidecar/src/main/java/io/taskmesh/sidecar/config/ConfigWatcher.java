package io.taskmesh.sidecar.config;

import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file when its content changes. A file that does not parse is reported (log line and
 * {@code onRejected}) and the last good config stays in force. Polls rather than uses WatchService, because
 * Kubernetes updates a mounted ConfigMap by swapping a symlink, which directory watches often miss.
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

  private final Path file;
  private final Consumer<MeshConfig> onAccepted;
  private final Consumer<ConfigException> onRejected;
  private final ScheduledExecutorService poller;
  private String lastSeen;

  public ConfigWatcher(Path file, String currentContent, Duration interval, Consumer<MeshConfig> onAccepted,
      Consumer<ConfigException> onRejected) {
    this.file = file;
    this.lastSeen = currentContent;
    this.onAccepted = onAccepted;
    this.onRejected = onRejected;
    this.poller = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "taskmesh-config-watcher");
      thread.setDaemon(true);
      return thread;
    });
    poller.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void check() {
    String content;
    try {
      content = Files.readString(file);
    } catch (IOException e) {
      log.warn("event=config_unreadable file={} error={}", file, e.toString());
      return;
    }
    if (content.equals(lastSeen)) {
      return;
    }
    lastSeen = content;
    try {
      MeshConfig config = MeshConfigParser.parse(content);
      onAccepted.accept(config);
      log.info("event=config_reloaded file={}", file);
    } catch (ConfigException e) {
      log.error("event=config_rejected file={} key={} error=\"{}\" (keeping the last good config)",
          file, e.key(), e.getMessage());
      onRejected.accept(e);
    } catch (RuntimeException e) {
      log.error("event=config_apply_failed file={}", file, e);
    }
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
