package io.taskmesh.sidecar.admin;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import io.taskmesh.sidecar.rpc.GrpcCode;
import io.taskmesh.sidecar.rpc.GrpcMethod;
import io.taskmesh.sidecar.rpc.GrpcStatusException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Asks the local app's standard gRPC health service (empty service name) every interval, off the event
 * loops, and keeps the last answer for /ready to read without blocking. An app that has no health service
 * (UNIMPLEMENTED: common in pods the webhook injects) counts as ready while it accepts connections.
 */
public final class AppHealthProbe implements AutoCloseable {
  private static final GrpcMethod<HealthCheckRequest, HealthCheckResponse> CHECK =
      GrpcMethod.of("grpc.health.v1.Health", "Check", HealthCheckResponse.parser());
  private static final Duration DEADLINE = Duration.ofSeconds(1);
  private final String target;
  private final int appPort;
  private final GrpcChannel channel;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-app-health");
    thread.setDaemon(true);
    return thread;
  });
  private volatile String lastProblem;

  /** @param netty the proxy's event loops, which carry the probe's channel */
  public AppHealthProbe(int appPort, Duration interval, NettyResources netty) {
    this.appPort = appPort;
    this.target = "127.0.0.1:" + appPort;
    this.channel = GrpcChannel.plaintext(netty, "127.0.0.1", appPort);
    this.lastProblem = "local app " + target + " not checked yet";
    scheduler.scheduleWithFixedDelay(this::check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** {@code null} when the app last answered SERVING, otherwise why not. */
  public String problem() {
    return lastProblem;
  }

  private void check() {
    // the channel has no reconnect backoff of its own: each check connects again at once if it must, so /ready
    // follows a starting app within a check
    try {
      HealthCheckResponse response = channel.blockingUnary(CHECK, HealthCheckRequest.getDefaultInstance(), DEADLINE);
      lastProblem = response.getStatus() == HealthCheckResponse.ServingStatus.SERVING
          ? null
          : "local app " + target + " health check answers " + response.getStatus();
    } catch (GrpcStatusException e) {
      lastProblem = e.code() == GrpcCode.UNIMPLEMENTED
          ? acceptingConnections() // an app without grpc.health.v1: listening is the best sign there is
          : "local app " + target + " does not answer the gRPC health check: " + e.getMessage();
    } catch (RuntimeException e) {
      lastProblem = "local app " + target + " does not answer the gRPC health check: " + e.getMessage();
    }
  }

  private String acceptingConnections() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", appPort), 1000);
      return null;
    } catch (IOException e) {
      return "local app " + target + " has no gRPC health service and does not accept connections: " + e.getMessage();
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    channel.close();
  }
}
