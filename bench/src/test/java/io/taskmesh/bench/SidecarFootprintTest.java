package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import io.taskmesh.taskservice.client.TaskClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The injected sidecar fits the memory limit the operator gives it: a sidecar pair started with the deployed
 * JVM flags and told the container's limit, after a fixed number of calls through both, has a peak RSS
 * (VmHWM) below that limit minus a quarter of it for headroom. So a limit set below the proxy's footprint,
 * or a change that grows the footprint past it, fails the build instead of OOM-killing pods.
 */
class SidecarFootprintTest {
  /** Enough calls for the hot path to be compiled and the pools and caches to be filled, as under load. */
  private static final int CALLS = 30_000;
  private static final int IN_FLIGHT = 32;
  /** A quarter of the limit stays free: for bursts, a busier pod, and variation between machines. */
  private static final double HEADROOM = 0.25;

  @Test
  void aSidecarPairUnderLoadStaysBelowTheInjectedMemoryLimitWithHeadroom(@TempDir Path dir) throws Exception {
    long limit = Topologies.injectedMemoryLimitBytes();
    TaskServer app = TaskServer.start(TaskServerOptions.defaults().withBindAddress("127.0.0.1")
        .withPort(FreePorts.next()).withDatabaseUrl("jdbc:h2:mem:footprint"));
    try (Topology pair = new Topologies(Files.createDirectories(dir), app.port())
        .taskmesh()) {
      int taskId;
      try (TaskClient client = TaskClient.connect("127.0.0.1:" + app.port())) {
        taskId = client.create("footprint", "read again and again through the sidecars", "medium", 1).getId();
      }
      long failed = callThrough(pair, taskId);

      assertThat(failed).as("calls failed through the sidecar pair").isZero();
      for (long pid : pair.proxyPids()) {
        assertThat(ProcessStats.peakRssBytes(pid))
            .as("peak RSS of sidecar %d against the injected limit %d MiB minus %.0f%% headroom", pid,
                limit >> 20, HEADROOM * 100)
            .isPositive()
            .isLessThanOrEqualTo((long) (limit * (1 - HEADROOM)));
      }
    } finally {
      app.close();
    }
  }

  /** {@link #CALLS} GetTask calls, {@link #IN_FLIGHT} at a time; returns how many failed. */
  private static long callThrough(Topology pair, int taskId) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forTarget(pair.target()).overrideAuthority(pair.authority())
        .usePlaintext().build();
    try {
      TaskServiceGrpc.TaskServiceFutureStub stub = TaskServiceGrpc.newFutureStub(channel);
      GetTaskRequest request = GetTaskRequest.newBuilder().setId(taskId).build();
      Semaphore inFlight = new Semaphore(IN_FLIGHT);
      AtomicLong failed = new AtomicLong();
      for (int i = 0; i < CALLS; i++) {
        if (!inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
          throw new AssertionError("no answer through the sidecar pair within 30 s after " + i + " calls");
        }
        var call = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getTask(request);
        call.addListener(() -> {
          try {
            call.get();
          } catch (Exception e) {
            failed.incrementAndGet();
          }
          inFlight.release();
        }, Runnable::run);
      }
      assertThat(inFlight.tryAcquire(IN_FLIGHT, 30, TimeUnit.SECONDS)).as("the last calls were answered").isTrue();
      return failed.get();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
