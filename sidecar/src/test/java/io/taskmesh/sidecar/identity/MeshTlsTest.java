package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.taskmesh.identity.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Mutual TLS between two Netty channels on 127.0.0.1 with the contexts the sidecar makes. */
class MeshTlsTest {
  private static final SpiffeId CLIENT = new SpiffeId("mesh.test", "shop", "frontend");
  private static final SpiffeId SERVER = new SpiffeId("mesh.test", "shop", "billing");
  private final TestAuthority authority = new TestAuthority("mesh-root");

  static java.util.List<SslProvider> providers() {
    return SslProvider.isAlpnSupported(SslProvider.OPENSSL)
        ? java.util.List.of(SslProvider.JDK, SslProvider.OPENSSL) : java.util.List.of(SslProvider.JDK);
  }

  @ParameterizedTest
  @MethodSource("providers")
  void bothSidesProveTheirSpiffeIdOverTls13WithH2(SslProvider provider) throws Exception {
    MeshTls server = MeshTls.of(authority.certificate(SERVER, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(), provider);
    MeshTls client = MeshTls.of(authority.certificate(CLIENT, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(), provider);
    try (TlsPeers peers = new TlsPeers(server::server); TlsPeers.Client connection = peers.connect(client.client())) {
      assertThat(connection.handshakeSucceeded()).as("handshake: %s", connection.tls.handshakeFuture().cause()).isTrue();
      assertThat(connection.server()).contains(SERVER);
      assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).contains(CLIENT);
      assertThat(connection.tls.engine().getSession().getProtocol()).isEqualTo("TLSv1.3");
      assertThat(MeshTls.negotiatedH2(connection.tls)).isTrue();
      assertThat(connection.echo("hello over mTLS")).isEqualTo("hello over mTLS");
    }
  }

  @ParameterizedTest
  @MethodSource("providers")
  void clientsThatProveNothingInOurTrustDomainAreRefused(SslProvider provider) throws Exception {
    MeshTls server = MeshTls.of(authority.certificate(SERVER, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(), provider);
    TestAuthority otherMesh = new TestAuthority("other-root");
    SslContext unsigned = MeshTls.of(otherMesh.certificate(CLIENT, Duration.ofHours(1)), "mesh.test",
        Clock.systemUTC(), provider).client();
    SslContext wrongDomain = MeshTls.of(authority.certificate(new SpiffeId("other.domain", "shop", "frontend"),
        Duration.ofHours(1)), "other.domain", Clock.systemUTC(), provider).client();
    Instant twoHoursAgo = Instant.now().minus(Duration.ofHours(2));
    SslContext expired = MeshTls.of(authority.certificate(CLIENT, twoHoursAgo, Duration.ofHours(1)), "mesh.test",
        Clock.fixed(twoHoursAgo.plusSeconds(60), java.time.ZoneOffset.UTC), provider).client();
    SslContext anonymous = SslContextBuilder.forClient().sslProvider(provider).protocols(MeshTls.TLS_1_3)
        .trustManager(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE).build();

    try (TlsPeers peers = new TlsPeers(server::server)) {
      for (SslContext refused : java.util.List.of(unsigned, wrongDomain, expired, anonymous)) {
        try (TlsPeers.Client connection = peers.connect(refused)) {
          assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).as("the server's view").isEmpty();
          assertThat(connection.echo("x")).as("nothing is echoed to a refused client").isEmpty();
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("providers")
  void aServerOutsideOurTrustIsRefusedByTheClient(SslProvider provider) {
    MeshTls impostor = MeshTls.of(new TestAuthority("impostor").certificate(SERVER, Duration.ofHours(1)), "mesh.test",
        Clock.systemUTC(), provider);
    MeshTls client = MeshTls.of(authority.certificate(CLIENT, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(), provider);
    try (TlsPeers peers = new TlsPeers(impostor::server); TlsPeers.Client connection = peers.connect(client.client())) {
      assertThat(connection.handshakeSucceeded()).isFalse();
      assertThat(connection.tls.handshakeFuture().cause()).hasStackTraceContaining("does not chain to our trust anchor");
    }
  }

  @ParameterizedTest
  @MethodSource("providers")
  void aRotationServesNewConnectionsTheNewCertificateAndKeepsOpenOnesWorking(SslProvider provider) throws Exception {
    MeshTlsContexts serverContexts = new MeshTlsContexts("mesh.test", Clock.systemUTC(), provider);
    WorkloadCertificate first = authority.certificate(SERVER, Duration.ofHours(1));
    serverContexts.use(first);
    MeshTls client = MeshTls.of(authority.certificate(CLIENT, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(), provider);
    try (TlsPeers peers = new TlsPeers(() -> serverContexts.current().orElseThrow().server());
        TlsPeers.Client before = peers.connect(client.client())) {
      assertThat(before.echo("before")).isEqualTo("before");

      WorkloadCertificate second = authority.certificate(SERVER, Duration.ofHours(1));
      serverContexts.use(second);

      try (TlsPeers.Client after = peers.connect(client.client())) {
        assertThat(serial(after)).isEqualTo(second.leaf().getSerialNumber());
        assertThat(after.echo("after")).isEqualTo("after");
      }
      assertThat(serial(before)).isEqualTo(first.leaf().getSerialNumber());
      assertThat(before.channel.isActive()).isTrue();
      assertThat(before.echo("still here")).isEqualTo("still here");
    }
  }

  @Test
  void theEngineIsBoringSslUnlessTheJdksIsAskedForOrTheNativeLibraryDoesNotLoad() {
    assertThat(MeshTls.provider("", () -> true)).isEqualTo(SslProvider.OPENSSL);
    assertThat(MeshTls.provider("", () -> false)).isEqualTo(SslProvider.JDK);
    assertThat(MeshTls.provider("boringssl", () -> true)).isEqualTo(SslProvider.OPENSSL);
    assertThat(MeshTls.provider(" JDK ", () -> {
      throw new AssertionError("the native library is not tried when the JDK's TLS is asked for");
    })).isEqualTo(SslProvider.JDK);
    assertThatThrownBy(() -> MeshTls.provider("boringssl", () -> false))
        .hasMessageContaining("taskmesh.tls.engine=boringssl").hasMessageContaining("does not load");
    assertThatThrownBy(() -> MeshTls.provider("openssl3", () -> true)).hasMessageContaining("taskmesh.tls.engine")
        .hasMessageContaining("\"openssl3\"").hasMessageContaining("expected boringssl or jdk");
  }

  private static java.math.BigInteger serial(TlsPeers.Client connection) throws Exception {
    return ((java.security.cert.X509Certificate) connection.tls.engine().getSession().getPeerCertificates()[0])
        .getSerialNumber();
  }
}
