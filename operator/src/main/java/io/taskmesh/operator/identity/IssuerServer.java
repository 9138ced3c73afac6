package io.taskmesh.operator.identity;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.ServerCredentials;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.identity.SpiffeTrustManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The issuer as the operator serves it: gRPC over TLS (port 15012 in a cluster), the server authenticated
 * by a certificate from its own intermediate, so a sidecar that holds only the trust bundle can check it
 * before it has a certificate of its own. The serving certificate names the operator's Service (DNS) and
 * its SPIFFE ID, and is renewed at two-thirds of its life or with the intermediate.
 */
public final class IssuerServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IssuerServer.class);
  private final Server server;
  private final IssuingAuthority authority;
  private final RotatingKeyManager serving;
  private final String trustDomain;

  private IssuerServer(Server server, IssuingAuthority authority, RotatingKeyManager serving, String trustDomain) {
    this.server = server;
    this.authority = authority;
    this.serving = serving;
    this.trustDomain = trustDomain;
  }

  public static IssuerServer start(KubernetesClient client, IdentitySettings settings, Clock clock) {
    RootOfTrust root = settings.anchorManaged()
        ? TrustAnchorStore.managed(client, settings.namespace(), settings.anchorSecret(), clock)
        : TrustAnchorStore.provided(client, settings.namespace(), settings.anchorSecret());
    return start(new KubernetesTokenReviewer(client), root, settings, clock);
  }

  public static IssuerServer start(TokenReviewer reviewer, RootOfTrust root, IdentitySettings settings, Clock clock) {
    IssuingAuthority authority = new IssuingAuthority(root, settings.maxCertLifetime(), clock);
    ServingCredentials serving = new ServingCredentials(authority, settings.servingNames(),
        new SpiffeId(settings.trustDomain(), settings.namespace(), settings.serviceAccount()));
    RotatingKeyManager keys = new RotatingKeyManager(serving::current);
    TlsServerCredentials tls = (TlsServerCredentials) TlsServerCredentials.newBuilder().keyManager(keys).build();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress(settings.bindAddress(), settings.port()), tls)
        .addService(new IssuerService(reviewer, authority, settings.trustDomain()))
        .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + settings.bindAddress() + ":" + settings.port(), e);
    }
    log.info("event=issuer_started port={} trust_domain={} anchor={} anchor_secret={}", server.getPort(),
        settings.trustDomain(), root.anchors().get(0).getSubjectX500Principal(), settings.anchorSecret());
    return new IssuerServer(server, authority, keys, settings.trustDomain());
  }

  /**
   * TLS for the operator's other mesh-facing server (discovery): the same serving certificate, and a client
   * certificate required, one that chains to the trust anchors and names a SPIFFE ID of the trust domain.
   */
  public ServerCredentials mutualTls() {
    return TlsServerCredentials.newBuilder().keyManager(serving)
        .trustManager(new SpiffeTrustManager(new PeerVerifier(trustAnchors(), trustDomain, authority.clock())))
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build();
  }

  public int port() {
    return server.getPort();
  }

  /** The trust bundle peers and sidecars verify with. */
  public List<X509Certificate> trustAnchors() {
    return authority.root().anchors();
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

  /** The issuer's own certificate, from the current intermediate. */
  private static final class ServingCredentials {
    private final IssuingAuthority authority;
    private final GeneralNames names;
    private RotatingKeyManager.Credentials current;
    private Instant renewAt = Instant.MIN;
    private X509Certificate signedBy;

    ServingCredentials(IssuingAuthority authority, List<String> dnsNames, SpiffeId id) {
      this.authority = authority;
      List<GeneralName> all = new ArrayList<>();
      dnsNames.forEach(dns -> all.add(new GeneralName(GeneralName.dNSName, dns)));
      all.add(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri()));
      this.names = new GeneralNames(all.toArray(GeneralName[]::new));
    }

    synchronized RotatingKeyManager.Credentials current() {
      IssuingAuthority.Issuing issuing = authority.current();
      Instant now = authority.clock().instant();
      if (current == null || now.isAfter(renewAt) || signedBy != issuing.intermediate().certificate()) {
        KeyPair key = Certificates.newKeyPair();
        Duration lifetime = authority.maxLeafLifetime();
        Instant from = now.minus(Duration.ofMinutes(1));
        X509Certificate leaf = Certificates.endEntity(issuing.intermediate(),
            Certificates.commonName("taskmesh-issuer"), key.getPublic(), names, from, now.plus(lifetime),
            KeyPurposeId.id_kp_serverAuth);
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(leaf);
        chain.addAll(issuing.chain());
        current = new RotatingKeyManager.Credentials(key.getPrivate(), chain.toArray(X509Certificate[]::new));
        renewAt = now.plus(lifetime.multipliedBy(2).dividedBy(3));
        signedBy = issuing.intermediate().certificate();
      }
      return current;
    }
  }
}
