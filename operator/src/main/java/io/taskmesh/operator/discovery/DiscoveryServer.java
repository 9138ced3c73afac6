package io.taskmesh.operator.discovery;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.taskmesh.operator.route.RouteTables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** The gRPC server sidecars subscribe to (port 15010 in a cluster). */
public final class DiscoveryServer implements AutoCloseable {
  private final Server server;
  private final DiscoveryService service;

  private DiscoveryServer(Server server, DiscoveryService service) {
    this.server = server;
    this.service = service;
  }

  /** A server that sends no routes and records no acks (one machine, tests). */
  public static DiscoveryServer start(String bindAddress, int port, EndpointRegistry registry) {
    return start(bindAddress, port, registry, new RouteTables(), node -> { });
  }

  /**
   * @param routes each service's route table, sent to its callers with its endpoints
   * @param acks told each config hash a sidecar announces (in a cluster: {@link PodAcks})
   */
  public static DiscoveryServer start(String bindAddress, int port, EndpointRegistry registry, RouteTables routes,
      java.util.function.Consumer<io.taskmesh.discovery.v1.Node> acks) {
    DiscoveryService service = new DiscoveryService(registry, routes, acks);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress(bindAddress, port))
        .addService(service)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + bindAddress + ":" + port, e);
    }
    return new DiscoveryServer(server, service);
  }

  public int port() {
    return server.getPort();
  }

  public DiscoveryService service() {
    return service;
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
