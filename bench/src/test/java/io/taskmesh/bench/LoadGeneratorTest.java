package io.taskmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {
  private final HealthStatusManager health = new HealthStatusManager();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(health.getHealthService()).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void anOpenLoopRunSendsExactlyTheScheduledRequestsAndRecordsEachAnswer() {
    HealthGrpc.HealthFutureStub stub = HealthGrpc.newFutureStub(channel);
    LoadGenerator generator = new LoadGenerator(() -> stub.check(HealthCheckRequest.getDefaultInstance()));

    LoadResult result = generator.openLoop(200, Duration.ofMillis(200), Duration.ofSeconds(1));

    assertThat(result.succeeded() + result.failed() + result.overloaded()).isEqualTo(200);
    assertThat(result.failed()).isZero();
    assertThat(result.latencyMicros().getTotalCount()).isEqualTo(result.succeeded());
    assertThat(result.percentileMillis(99)).isPositive();
  }

  @Test
  void failedAnswersAreCountedAsFailuresNotLatencies() {
    health.setStatus("", ServingStatus.SERVING);
    HealthGrpc.HealthFutureStub stub = HealthGrpc.newFutureStub(channel);
    LoadGenerator generator = new LoadGenerator(
        () -> stub.check(HealthCheckRequest.newBuilder().setService("no-such-service").build()));

    LoadResult result = generator.openLoop(100, Duration.ZERO, Duration.ofMillis(500));

    assertThat(result.failed()).isEqualTo(50);
    assertThat(result.latencyMicros().getTotalCount()).isZero();
  }

  @Test
  void aClosedLoopRunKeepsItsStreamsBusyForTheWholeWindow() {
    HealthGrpc.HealthFutureStub stub = HealthGrpc.newFutureStub(channel);
    LoadGenerator generator = new LoadGenerator(() -> stub.check(HealthCheckRequest.getDefaultInstance()));

    LoadResult result = generator.closedLoop(8, Duration.ofMillis(200), Duration.ofMillis(500));

    assertThat(result.failed()).isZero();
    assertThat(result.succeeded()).isGreaterThan(8);
    assertThat(result.throughput()).isPositive();
  }

  @Test
  void processStatsReadThisJvmsCpuAndMemory() {
    long pid = ProcessHandle.current().pid();

    assertThat(ProcessStats.cpuSeconds(pid)).isPositive();
    assertThat(ProcessStats.rssBytes(pid)).isGreaterThan(10L * 1024 * 1024);
    assertThat(ProcessStats.jitCpuSeconds(pid)).isNotNegative().isLessThanOrEqualTo(ProcessStats.cpuSeconds(pid));
    assertThat(ProcessStats.loadAverage()).isNotNegative();
  }
}
