package io.taskmesh.operator.discovery;

import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.route.RouteTables;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.discovery.v1.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** The gRPC server sidecars subscribe to (port 15010 in a cluster). */
public final class DiscoveryServer implements AutoCloseable {
  /** Resets a peer may send per window before it is told to go away (HTTP/2 rapid reset). */
  private static final int MAX_RESETS_PER_WINDOW = 200;
  private static final int RESET_WINDOW_SECONDS = 10;

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

  /** With the default limits, counting into a registry of its own (a local mesh has no scrape endpoint). */
  public static DiscoveryServer start(String bindAddress, int port, EndpointRegistry registry, RouteTables routes,
      Consumer<Node> acks) {
    return start(bindAddress, port, registry, routes, acks, DiscoveryLimits.DEFAULTS, new SimpleMeterRegistry());
  }

  /** Plaintext, with no authorization policies (a local mesh without identity, tests). */
  public static DiscoveryServer start(String bindAddress, int port, EndpointRegistry registry, RouteTables routes,
      Consumer<Node> acks, DiscoveryLimits limits, MeterRegistry meters) {
    return start(bindAddress, port, registry, routes, new AuthorizationTables(), (node, peer) -> acks.accept(node),
        limits, meters, Optional.empty());
  }

  /**
   * @param routes each service's route table, sent to its callers with its endpoints
   * @param authorization each service's inbound authorization, sent to its own sidecars
   * @param acks told each hash a sidecar announces (in a cluster: {@link PodAcks})
   * @param tls with identity on: TLS that requires a client certificate from the mesh's trust anchors; each
   *     peer's SPIFFE ID then bounds what it may discover and ack. Empty: plaintext, peers unauthenticated.
   */
  public static DiscoveryServer start(String bindAddress, int port, EndpointRegistry registry, RouteTables routes,
      AuthorizationTables authorization, PeerAcks acks, DiscoveryLimits limits, MeterRegistry meters,
      Optional<ServerCredentials> tls) {
    DiscoveryMetrics metrics = new DiscoveryMetrics(meters);
    DiscoveryService service = new DiscoveryService(registry, routes, authorization, acks, limits, metrics);
    InetSocketAddress address = new InetSocketAddress(bindAddress, port);
    Server server = tls.map(credentials -> NettyServerBuilder.forAddress(address, credentials))
        .orElseGet(() -> NettyServerBuilder.forAddress(address))
        .addService(ServerInterceptors.intercept(service,
            new StreamsPerConnection(limits.maxStreamsPerConnection(), metrics), new PeerIdentities()))
        // above the per-connection cap, so a well-behaved peer gets the named refusal rather than a silent wait,
        // while one that ignores refusals stops here at the transport
        .maxConcurrentCallsPerConnection(2 * limits.maxStreamsPerConnection())
        .maxInboundMessageSize(limits.maxMessageBytes())
        .maxInboundMetadataSize(limits.maxMetadataBytes())
        .maxRstFramesPerWindow(MAX_RESETS_PER_WINDOW, RESET_WINDOW_SECONDS)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .maxConnectionAge(limits.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(limits.maxConnectionAgeGrace().toMillis(), TimeUnit.MILLISECONDS)
        .build();
    try {
      server.start();
    } catch (IOException e) {
      service.close();
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
    service.close();
  }
}
