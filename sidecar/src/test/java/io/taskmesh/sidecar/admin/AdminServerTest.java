package io.taskmesh.sidecar.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.admin.AdminServer.Page;
import io.taskmesh.sidecar.listener.BudgetCounter;
import io.taskmesh.sidecar.support.AdminClient;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class AdminServerTest {
  @Test
  void aSlowPageIsBuiltOffTheEventLoopWhichKeepsServingProbesAndTraffic() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<String> builtOn = new AtomicReference<>();
    Map<String, Supplier<Page>> pages = new LinkedHashMap<>();
    pages.put("/healthz", () -> Page.text(200, "ok\n"));
    pages.put("/metrics", () -> {
      builtOn.set(Thread.currentThread().getName());
      await(release);
      return Page.text(200, "big\n");
    });
    try (NettyResources netty = new NettyResources(1);
        AdminServer admin = new AdminServer(netty, "127.0.0.1", 0, pages, ListenerBudgets.ADMIN,
            new BudgetCounter(new SimpleMeterRegistry(), "admin"))) {
      AdminClient client = new AdminClient(admin.port());
      CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> client.get("/metrics"));
      while (builtOn.get() == null) {
        Thread.onSpinWait();
      }

      assertThat(client.get("/healthz").statusCode()).isEqualTo(200);
      // the only event loop runs other work while the page is being built
      assertThat(netty.workers().submit(() -> "ran").get(10, TimeUnit.SECONDS)).isEqualTo("ran");
      release.countDown();
      assertThat(slow.get(30, TimeUnit.SECONDS).body()).isEqualTo("big\n");
      assertThat(builtOn.get()).isEqualTo("taskmesh-admin");
    }
  }

  @Test
  void introspectionPagesAreForLoopbackPeersOnly() {
    assertThat(AdminServer.mayIntrospect(new InetSocketAddress("127.0.0.1", 40000))).isTrue();
    assertThat(AdminServer.mayIntrospect(new InetSocketAddress("::1", 40000))).isTrue();
    assertThat(AdminServer.mayIntrospect(new InetSocketAddress("10.244.1.7", 40000))).isFalse();
    assertThat(AdminServer.PUBLIC_PAGES).containsExactlyInAnyOrder("/healthz", "/health", "/ready", "/metrics");
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
