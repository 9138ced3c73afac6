package io.taskmesh.sidecar.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls files and hands their contents on when any of them changed. Content is compared, not modification times:
 * the kubelet updates a mounted Secret or ConfigMap by swapping the {@code ..data} symlink, which keeps old times
 * and which directory watches often miss. A file that cannot be read is logged (once, until it can be read again)
 * and looked at again next time; the contents in force stay.
 */
public final class WatchedFiles implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WatchedFiles.class);
  private final List<Path> files;
  private final Consumer<List<byte[]>> onChange;
  private final Consumer<IOException> onUnreadable;
  private final ScheduledExecutorService poller;
  private List<byte[]> lastSeen;
  private boolean unreadable;

  /**
   * @param current the contents in force now, in the order of {@code files}
   * @param onChange given the new contents, in the order of {@code files}, on the poller's thread
   * @param onUnreadable told, on the poller's thread, when a file can no longer be read (once for each time it
   *     stops being readable, not at every look)
   */
  public WatchedFiles(String name, List<Path> files, List<byte[]> current, Duration interval,
      Consumer<List<byte[]>> onChange, Consumer<IOException> onUnreadable) {
    this.files = List.copyOf(files);
    this.lastSeen = List.copyOf(current);
    this.onChange = onChange;
    this.onUnreadable = onUnreadable;
    this.poller = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "taskmesh-watch-" + name);
      thread.setDaemon(true);
      return thread;
    });
    poller.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Reads each file whole. */
  private static List<byte[]> read(List<Path> files) throws IOException {
    List<byte[]> contents = new ArrayList<>();
    for (Path file : files) {
      contents.add(Files.readAllBytes(file));
    }
    return contents;
  }

  private void check() {
    List<byte[]> contents;
    try {
      contents = read(files);
    } catch (IOException e) {
      if (!unreadable) {
        unreadable = true;
        log.warn("event=watched_file_unreadable files={} error=\"{}\" (keeping the contents in force)", files,
            e.toString());
        onUnreadable.accept(e);
      }
      return;
    }
    if (unreadable) {
      unreadable = false;
      log.info("event=watched_file_readable files={}", files);
    }
    if (same(contents, lastSeen)) {
      return;
    }
    lastSeen = contents;
    try {
      onChange.accept(contents);
    } catch (RuntimeException e) {
      log.error("event=watched_file_apply_failed files={}", files, e);
    }
  }

  private static boolean same(List<byte[]> a, List<byte[]> b) {
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
