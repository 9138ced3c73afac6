package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.taskmesh.identity.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An anchor rotation as a sidecar lives it: the operator publishes the new anchor beside the old in the trust bundle,
 * the kubelet swaps the mounted file, and the next handshakes take peers certified under the new anchor, with no
 * restart and the open connection left as it is. Real TLS over loopback, the server side's contexts fed by the
 * watched file as the proxy wires them.
 */
class TrustBundleReloadTest {
  private static final SpiffeId SERVER = new SpiffeId("mesh.test", "shop", "task-service");
  private static final SpiffeId CLIENT = new SpiffeId("mesh.test", "shop", "frontend");
  private static final Duration BOUND = Duration.ofSeconds(60);
  private final TestAuthority old = new TestAuthority("old-root");
  private final TestAuthority rotated = new TestAuthority("new-root");

  @TempDir
  Path dir;

  @Test
  void aNewAnchorInTheMountedBundleIsTrustedByTheNextHandshakesWithoutRestart() throws Exception {
    Path bundleFile = write(old.anchors());
    MeshTlsContexts server = new MeshTlsContexts("mesh.test", Clock.systemUTC(), MeshTls.preferredProvider());
    server.use(old.certificate(SERVER, Duration.ofHours(1)));
    // a peer already on the new anchor, which trusts both (it got the new bundle first)
    WorkloadCertificate newPeer = rotated.certificate(CLIENT, Duration.ofHours(1))
        .trusting(List.of(old.anchors().get(0), rotated.anchors().get(0)));
    MeshTls oldPeer = MeshTls.of(old.certificate(CLIENT, Duration.ofHours(1)), "mesh.test", Clock.systemUTC(),
        MeshTls.preferredProvider());
    MeshTls client = MeshTls.of(newPeer, "mesh.test", Clock.systemUTC(), MeshTls.preferredProvider());

    try (TrustBundleFile bundle = new TrustBundleFile(bundleFile, Duration.ofMillis(200), Clock.systemUTC(),
        new SimpleMeterRegistry());
        TlsPeers peers = new TlsPeers(() -> server.current().orElseThrow().server());
        TlsPeers.Client open = peers.connect(oldPeer.client())) {
      bundle.onChange(server::trust);
      assertThat(open.echo("before")).isEqualTo("before");
      assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).contains(CLIENT);
      try (TlsPeers.Client refused = peers.connect(client.client())) {
        assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).as("not yet trusted").isEmpty();
      }

      write(List.of(old.anchors().get(0), rotated.anchors().get(0)));

      await().atMost(BOUND).until(() -> bundle.anchors().size() == 2);
      try (TlsPeers.Client accepted = peers.connect(client.client())) {
        assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).contains(CLIENT);
        assertThat(accepted.echo("under the new anchor")).isEqualTo("under the new anchor");
      }
      assertThat(open.echo("the open connection")).isEqualTo("the open connection");


      write(rotated.anchors());  // the rotation ends: the old anchor is dropped

      await().atMost(BOUND).until(() -> bundle.anchors().equals(rotated.anchors()));
      try (TlsPeers.Client refusedNow = peers.connect(oldPeer.client())) {
        assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).as("under the dropped anchor").isEmpty();
      }
    }
  }

  @Test
  void aBadOrUnreadableNewBundleIsCountedAndTheLastGoodAnchorsKeepCheckingHandshakes() throws Exception {
    Path bundleFile = write(old.anchors());
    MeshTlsContexts server = new MeshTlsContexts("mesh.test", Clock.systemUTC(), MeshTls.preferredProvider());
    server.use(old.certificate(SERVER, Duration.ofHours(1)));
    // certified under the new anchor only: accepted only while the reloaded bundle is in force
    MeshTls newPeer = MeshTls.of(rotated.certificate(CLIENT, Duration.ofHours(1))
        .trusting(List.of(old.anchors().get(0), rotated.anchors().get(0))), "mesh.test", Clock.systemUTC(),
        MeshTls.preferredProvider());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<X509Certificate> good = List.of(old.anchors().get(0), rotated.anchors().get(0));

    try (TrustBundleFile bundle = new TrustBundleFile(bundleFile, Duration.ofMillis(100), Clock.systemUTC(), registry);
        TlsPeers peers = new TlsPeers(() -> server.current().orElseThrow().server())) {
      bundle.onChange(server::trust);
      write(good);
      await().atMost(BOUND).until(() -> reloads(registry, "accepted") == 1);

      writeText("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
      await().atMost(BOUND).until(() -> reloads(registry, "rejected") == 1);
      assertThat(bundle.anchors()).isEqualTo(good);
      assertHandshakeAccepted(peers, newPeer);

      writeText("");
      await().atMost(BOUND).until(() -> reloads(registry, "rejected") == 2);
      assertHandshakeAccepted(peers, newPeer);

      Files.delete(bundleFile);  // e.g. the ConfigMap's key gone: unreadable, counted once however often it is read
      await().atMost(BOUND).until(() -> reloads(registry, "rejected") == 3);
      assertThat(bundle.anchors()).isEqualTo(good);
      assertHandshakeAccepted(peers, newPeer);

      write(rotated.anchors());
      await().atMost(BOUND).until(() -> reloads(registry, "accepted") == 2);
      assertThat(bundle.anchors()).isEqualTo(rotated.anchors());
      assertThat(reloads(registry, "rejected")).isEqualTo(3);
      assertThat(registry.scrape()).contains("taskmesh_trust_bundle_reloads_total{result=\"rejected\"} 3.0")
          .contains("taskmesh_trust_bundle_reloads_total{result=\"accepted\"} 2.0");
    }
  }

  @Test
  void aBundleThatHoldsNoCertificateIsRefusedNamingTheFile() throws Exception {
    Path file = Files.writeString(dir.resolve("ca.crt"), "not a certificate\n");

    assertThatThrownBy(() -> new TrustBundleFile(file, BOUND, Clock.systemUTC(), new SimpleMeterRegistry()))
        .isInstanceOf(java.io.IOException.class).hasMessageContaining(file.toString());
  }

  @Test
  void aBundleWhoseEveryAnchorHasExpiredIsRefusedNamingTheFile() throws Exception {
    Path file = write(old.anchors());  // valid for 30 days
    Clock monthsLater = Clock.offset(Clock.systemUTC(), Duration.ofDays(60));

    assertThatThrownBy(() -> new TrustBundleFile(file, BOUND, monthsLater, new SimpleMeterRegistry()))
        .isInstanceOf(java.io.IOException.class).hasMessageContaining(file.toString())
        .hasMessageContaining("only expired certificates");
  }

  private static void assertHandshakeAccepted(TlsPeers peers, MeshTls client) throws Exception {
    try (TlsPeers.Client accepted = peers.connect(client.client())) {
      assertThat(peers.clientsSeen.poll(20, TimeUnit.SECONDS)).contains(CLIENT);
      assertThat(accepted.echo("still trusted")).isEqualTo("still trusted");
    }
  }

  private static double reloads(PrometheusMeterRegistry registry, String result) {
    return registry.get("taskmesh.trust.bundle.reloads").tag("result", result).counter().count();
  }

  /** Any content, as the kubelet swaps it in: written aside, then moved over the file at once. */
  private Path writeText(String content) throws Exception {
    Path aside = Files.writeString(dir.resolve("ca.crt.new"), content);
    return Files.move(aside, dir.resolve("ca.crt"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The bundle as the kubelet swaps it in: written aside, then moved over the file at once. */
  private Path write(List<X509Certificate> anchors) throws Exception {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate anchor : anchors) {
      pem.append("-----BEGIN CERTIFICATE-----\n").append(Base64.getMimeEncoder().encodeToString(anchor.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    return writeText(pem.toString());
  }
}
