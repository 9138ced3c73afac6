package io.taskmesh.e2e.identity;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.taskmesh.config.IdentityConfig;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.discovery.DiscoveryLimits;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.sidecar.Sidecar;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The operator's issuer and its discovery server over mTLS on 127.0.0.1, and sidecars certified by it: what the
 * identity e2e tests wire a mesh of. A sidecar's inbound is announced in discovery with its SPIFFE ID, so callers
 * reach it over mTLS.
 */
final class MeshOfIdentities implements AutoCloseable {
  static final Duration BOUND = Duration.ofSeconds(60);
  private final List<AutoCloseable> started = new ArrayList<>();
  private final EndpointRegistry endpoints = new EndpointRegistry();
  private final MeshIssuer issuer;
  private final DiscoveryServer discovery;

  /** @param authorization what discovery sends: which namespaces reach which services, and policies */
  MeshOfIdentities(Path dir, AuthorizationTables authorization) throws IOException {
    issuer = closeLater(new MeshIssuer(dir));
    discovery = closeLater(DiscoveryServer.start("127.0.0.1", 0, endpoints, new RouteTables(), authorization,
        (node, peer) -> { }, DiscoveryLimits.DEFAULTS, new SimpleMeterRegistry(), Optional.of(issuer.discoveryTls())));
  }

  DiscoveryServer discovery() {
    return discovery;
  }

  /**
   * A proxy of {@code yaml} (its outbound reaching discovery, its admin on any port) certified as {@code id}, in
   * {@code mode}; started once its first certificate is in use.
   */
  Sidecar sidecar(String yaml, SpiffeId id, IdentityMode mode) throws Exception {
    MeshConfig config = MeshConfigParser.parse(yaml + """
        outbound:
          port: 0
          discovery: {address: "localhost:%d"}
        admin: {port: 0}
        """.formatted(discovery.port()));
    IdentityConfig identity = new IdentityConfig(mode, MeshIssuer.TRUST_DOMAIN, "localhost:" + issuer.port(),
        issuer.tokenFile(id.namespace(), id.serviceAccount()).toString(), issuer.bundle().toString(),
        Duration.ofHours(1));
    Sidecar sidecar = closeLater(Sidecar.start(new MeshConfig(config.service(), config.namespace(), config.inbound(),
        config.outbound(), config.tracing(), config.admin(), config.drain(), config.gateway(), config.accessLog(),
        config.budgets(), config.overload(), identity), "127.0.0.1"));
    sidecar.identity().orElseThrow().ready().get(BOUND.toSeconds(), TimeUnit.SECONDS);
    return sidecar;
  }

  /** Discovery announces {@code sidecar}'s inbound as the one endpoint of {@code service}, proving {@code id}. */
  void announce(ServiceKey service, Sidecar sidecar, SpiffeId id) {
    endpoints.update(service, List.of(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(sidecar.inboundPort())
        .setReady(true).setIdentity(id.uri()).build()));
  }

  <T extends AutoCloseable> T closeLater(T resource) {
    started.add(resource);
    return resource;
  }

  @Override
  public void close() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
  }
}
