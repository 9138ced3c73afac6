package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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

    try (TrustBundleFile bundle = new TrustBundleFile(bundleFile, Duration.ofMillis(200));
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
  void aBundleThatHoldsNoCertificateIsRefusedNamingTheFile() throws Exception {
    Path file = Files.writeString(dir.resolve("ca.crt"), "not a certificate\n");

    assertThatThrownBy(() -> new TrustBundleFile(file, BOUND)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining(file.toString());
  }

  /** The bundle as the kubelet swaps it in: written aside, then moved over the file at once. */
  private Path write(List<X509Certificate> anchors) throws Exception {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate anchor : anchors) {
      pem.append("-----BEGIN CERTIFICATE-----\n").append(Base64.getMimeEncoder().encodeToString(anchor.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    Path aside = Files.writeString(dir.resolve("ca.crt.new"), pem);
    return Files.move(aside, dir.resolve("ca.crt"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
