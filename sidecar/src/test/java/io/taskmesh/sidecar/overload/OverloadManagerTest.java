package io.taskmesh.sidecar.overload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.taskmesh.config.OverloadConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class OverloadManagerTest {
  @Test
  void anEventLoopKeptBusyPastTheLagThresholdIsOverloadAndNoLongerOnceItIsFree() throws Exception {
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    AtomicBoolean busy = new AtomicBoolean(true);
    try (OverloadManager overload = new OverloadManager(
        new OverloadConfig(100, 100, Duration.ofMillis(100), Duration.ofMillis(20)), loops, new SimpleMeterRegistry())) {
      loops.scheduleAtFixedRate(() -> {
        if (busy.get()) {
          sleep(300); // a handler that blocks its loop, as a big page built on it did
        }
      }, 0, 50, TimeUnit.MILLISECONDS);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5)).until(overload::overloaded);
      assertThat(overload.cause()).startsWith("event loop").contains("threshold 100 ms");

      busy.set(false);
      await().atMost(Duration.ofSeconds(20)).until(() -> !overload.overloaded());
    } finally {
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
