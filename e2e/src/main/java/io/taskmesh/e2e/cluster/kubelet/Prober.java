package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One probe attempt, as the kubelet makes it: httpGet, tcpSocket and grpc from the node to the pod's
 * address (so a pod's inbound capture rules apply to probes as in a cluster, and an app listening on
 * loopback only fails them as it would there); exec inside the container's namespaces.
 */
final class Prober {
  private final Optional<Duration> periodCap;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
      .followRedirects(HttpClient.Redirect.NEVER).build();

  /** @param periodCap when present, no probe waits longer than this between two attempts (a demo setting) */
  Prober(Optional<Duration> periodCap) {
    this.periodCap = periodCap;
  }

  /** How long between two attempts of {@code probe}: its {@code periodSeconds} (default 10 s), capped if asked. */
  Duration period(Probe probe) {
    Duration period = Duration.ofSeconds(probe.getPeriodSeconds() == null ? 10 : probe.getPeriodSeconds());
    return periodCap.filter(cap -> cap.compareTo(period) < 0).orElse(period);
  }

  /** Whether {@code probe} passes against {@code container} of the pod at {@code podIp} (process {@code pid}). */
  boolean passes(Probe probe, Container container, InetAddress podIp, long pid, ContainerCommand command) {
    Duration timeout = Duration.ofSeconds(probe.getTimeoutSeconds() == null ? 1 : probe.getTimeoutSeconds());
    try {
      if (probe.getHttpGet() != null) {
        var get = probe.getHttpGet();
        String host = get.getHost() == null || get.getHost().isBlank() ? podIp.getHostAddress() : get.getHost();
        String scheme = get.getScheme() == null ? "http" : get.getScheme().toLowerCase();
        String path = get.getPath() == null || get.getPath().isEmpty() ? "/" : get.getPath();
        var request = HttpRequest.newBuilder(URI.create(scheme + "://" + host + ":" + port(get.getPort(), container) + path))
            .timeout(timeout).GET();
        if (get.getHttpHeaders() != null) {
          get.getHttpHeaders().forEach(header -> request.header(header.getName(), header.getValue()));
        }
        int status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        return status >= 200 && status < 400;
      }
      if (probe.getTcpSocket() != null) {
        try (Socket socket = new Socket()) {
          socket.connect(new InetSocketAddress(podIp, port(probe.getTcpSocket().getPort(), container)),
              (int) timeout.toMillis());
          return true;
        }
      }
      if (probe.getGrpc() != null) {
        return grpcServing(podIp, probe.getGrpc().getPort(), probe.getGrpc().getService(), timeout);
      }
      if (probe.getExec() != null) {
        List<String> argv = probe.getExec().getCommand();
        return command.execIn(pid, argv, timeout) == 0;
      }
      throw new IllegalArgumentException("container " + container.getName() + " has a probe with no handler");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean grpcServing(InetAddress podIp, int port, String service, Duration timeout)
      throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forAddress(podIp.getHostAddress(), port).usePlaintext().build();
    try {
      HealthCheckResponse response = HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.newBuilder().setService(service == null ? "" : service).build());
      return response.getStatus() == HealthCheckResponse.ServingStatus.SERVING;
    } catch (io.grpc.StatusRuntimeException e) {
      return false;
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(1, TimeUnit.SECONDS);
    }
  }

  /** A probe's port: a number, or the name of one of the container's ports. */
  static int port(IntOrString port, Container container) {
    if (port == null) {
      throw new IllegalArgumentException("container " + container.getName() + " has a probe without a port");
    }
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return container.getPorts().stream()
        .filter(p -> port.getStrVal().equals(p.getName()))
        .map(p -> p.getContainerPort())
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "container " + container.getName() + " has no port named " + port.getStrVal() + " for its probe"));
  }
}
