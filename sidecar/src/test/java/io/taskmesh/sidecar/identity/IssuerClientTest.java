package io.taskmesh.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.taskmesh.sidecar.rpc.GrpcStatusException;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IssuerClientTest {
  private static final SpiffeId BILLING = new SpiffeId("mesh.test", "shop", "billing");
  private final TestAuthority authority = new TestAuthority("mesh-root");

  @Test
  void theSidecarGetsACertificateForItsOwnKeyAndIdentity(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("token"), "billing-token\n");
    try (TestIssuer issuer = new TestIssuer(authority, Map.of("billing-token", BILLING), Duration.ofHours(24));
        IssuerClient client = client(issuer, authority, dir)) {
      WorkloadCertificate certificate = client.certify(BILLING);

      assertThat(certificate.id()).isEqualTo(BILLING);
      assertThat(certificate.leaf().getPublicKey().getAlgorithm()).isEqualTo("EC");
      assertThat(certificate.trustAnchors()).isEqualTo(authority.anchors());
      assertThat(new PeerVerifier(authority.anchors(), "mesh.test", Clock.systemUTC()).verify(certificate.chain()))
          .isEqualTo(BILLING);
      assertThat(certificate.toString()).contains("key hidden").doesNotContain("PRIVATE");
    }
  }

  @Test
  void aCertificateForAnotherIdentityThanAskedIsNotUsed(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("token"), "billing-token");
    SpiffeId admin = new SpiffeId("mesh.test", "shop", "admin");
    try (TestIssuer lying = new TestIssuer(authority, Map.of("billing-token", admin), Duration.ofHours(24));
        IssuerClient client = client(lying, authority, dir)) {
      assertThatThrownBy(() -> client.certify(BILLING)).isInstanceOf(CertificateException.class)
          .hasMessageContaining("certified " + admin);
    }
  }

  @Test
  void anIssuerWhoseCertificateIsNotUnderTheBundleIsNotAsked(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("token"), "billing-token");
    TestAuthority impostor = new TestAuthority("impostor-root");
    try (TestIssuer issuer = new TestIssuer(impostor, Map.of("billing-token", BILLING), Duration.ofHours(24));
        IssuerClient client = client(issuer, authority, dir)) {
      assertThatThrownBy(() -> client.certify(BILLING)).isInstanceOf(GrpcStatusException.class);
      assertThat(issuer.calls()).as("the token never reached it").isZero();
    }
  }

  @Test
  void anIssuerWhoseCertificateDoesNotNameTheHostDialledIsNotAsked(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("token"), "billing-token");
    try (TestIssuer issuer = new TestIssuer(authority, Map.of("billing-token", BILLING), Duration.ofHours(24));
        IssuerClient client = new IssuerClient("127.0.0.1", issuer.port(), "someone-else.test",
            () -> new PeerVerifier(authority.anchors(), "mesh.test", Clock.systemUTC()),
            new TokenFile(dir.resolve("token")), Duration.ofHours(24))) {
      assertThatThrownBy(() -> client.certify(BILLING)).isInstanceOf(GrpcStatusException.class)
          .hasMessageContaining("someone-else.test");
      assertThat(issuer.calls()).as("the token never reached it").isZero();
    }
  }

  @Test
  void theServiceAccountIsReadFromTheTokensSubjectAndAnythingElseIsRefusedNamingTheFile() throws Exception {
    String claims = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        ("{\"aud\":[\"taskmesh\"],\"exp\":1764640000,\"iss\":\"https:\\/\\/kubernetes.default.svc\","
            + "\"kubernetes.io\":{\"namespace\":\"shop\",\"pod\":{\"name\":\"billing-0\",\"uid\":\"a\\u003cb\"},"
            + "\"serviceaccount\":{\"name\":\"billing\"}},\"sub\":\"system:serviceaccount:shop:billing\"}")
            .getBytes()); // a Kubernetes token's claims, compact JSON as the API server writes them
    Path file = Path.of("/var/run/token");

    assertThat(WorkloadIdentity.idOf("e30." + claims + ".sig", "mesh.test", file)).isEqualTo(BILLING);
    assertThatThrownBy(() -> WorkloadIdentity.idOf("not-a-jwt", "mesh.test", file))
        .hasMessageContaining("/var/run/token").hasMessageContaining("not a ServiceAccount token");
  }

  private static IssuerClient client(TestIssuer issuer, TestAuthority trusted, Path dir) {
    return new IssuerClient("127.0.0.1", issuer.port(), TestIssuer.NAME,
        () -> new PeerVerifier(trusted.anchors(), "mesh.test", Clock.systemUTC()), new TokenFile(dir.resolve("token")),
        Duration.ofHours(24));
  }
}
