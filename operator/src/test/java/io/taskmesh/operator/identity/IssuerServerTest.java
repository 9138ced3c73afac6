package io.taskmesh.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.identity.v1.CertifyRequest;
import io.taskmesh.identity.v1.CertifyResponse;
import io.taskmesh.identity.v1.IssuerGrpc;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The issuer over real TLS on 127.0.0.1, its root of trust in a Secret of the mock API server, and tokens
 * reviewed by the mock answering TokenReview as kube-apiserver would.
 */
@EnableKubernetesMockClient(crud = true)
class IssuerServerTest {
  private static final String NAMESPACE = "taskmesh-system";
  private static final String BILLING_TOKEN = "token-of-shop-billing";
  private static final String OTHER_AUDIENCE_TOKEN = "token-for-the-api-server";

  static KubernetesClient client;
  static KubernetesMockServer server;

  private IssuerServer issuer;
  private ManagedChannel channel;

  @BeforeEach
  void start() {
    TokenReviews.answer(server, Map.of(
        BILLING_TOKEN, new TokenReviews.Token("shop", "billing", List.of("taskmesh")),
        OTHER_AUDIENCE_TOKEN, new TokenReviews.Token("shop", "billing", List.of("https://kubernetes.default.svc"))));
    issuer = IssuerServer.start(client, settings("issuer-anchor", true), Clock.systemUTC());
    channel = IssuerClients.channelTrusting(issuer.trustAnchors(), issuer.port());
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    issuer.close();
  }

  @Test
  void aTokensServiceAccountGetsACertificateForItsSpiffeIdThatPeersAccept() throws Exception {
    CertifyResponse answer = certify(Csrs.askingFor(Certificates.newKeyPair(), "spiffe://mesh.test/ns/shop/sa/billing"),
        BILLING_TOKEN);

    List<X509Certificate> chain = IssuerClients.certificates(answer.getChainList());
    List<X509Certificate> anchors = IssuerClients.certificates(answer.getTrustAnchorsList());
    assertThat(answer.getSpiffeId()).isEqualTo("spiffe://mesh.test/ns/shop/sa/billing");
    assertThat(anchors).containsExactlyElementsOf(issuer.trustAnchors());
    assertThat(chain).hasSize(2);  // leaf, this replica's intermediate
    assertThat(new PeerVerifier(anchors, "mesh.test", Clock.systemUTC()).verify(chain))
        .isEqualTo(new SpiffeId("mesh.test", "shop", "billing"));
    X509Certificate leaf = chain.get(0);
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .as("24 h by default, from a minute early").isBetween(Duration.ofHours(24), Duration.ofHours(24).plusMinutes(2));
    assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
  }

  @Test
  void aTokenForOneServiceAccountCannotGetACertificateForAnother() throws Exception {
    KeyPair key = Certificates.newKeyPair();

    assertThatThrownBy(() -> certify(Csrs.askingFor(key, "spiffe://mesh.test/ns/shop/sa/admin"), BILLING_TOKEN))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED))
        .hasMessageContaining("the token proves spiffe://mesh.test/ns/shop/sa/billing")
        .hasMessageContaining("asks for spiffe://mesh.test/ns/shop/sa/admin");
    assertThatThrownBy(() -> certify(Csrs.askingFor(key, "spiffe://mesh.test/ns/bank/sa/billing"), BILLING_TOKEN))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> certify(Csrs.askingFor(key, "spiffe://other.domain/ns/shop/sa/billing"), BILLING_TOKEN))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> certify(Csrs.asking(key,
        new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://mesh.test/ns/shop/sa/billing"),
        new GeneralName(GeneralName.dNSName, "bank.example")), BILLING_TOKEN))
        .as("the right identity plus a host name").hasMessageContaining("exactly one URI");
  }

  @Test
  void aTokenThatProvesNothingToUsGetsNoCertificate() throws Exception {
    byte[] csr = Csrs.askingFor(Certificates.newKeyPair(), "spiffe://mesh.test/ns/shop/sa/billing");

    for (String token : List.of("forged", OTHER_AUDIENCE_TOKEN, "")) {
      assertThatThrownBy(() -> certify(csr, token)).as("token '%s'", token)
          .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }
  }

  @Test
  void aTokenThatCannotBeReviewedNowIsUnavailableNotRefused() throws Exception {
    TokenReviewer unreachable = token -> {
      throw new io.fabric8.kubernetes.client.KubernetesClientException("connect timed out");
    };
    RootOfTrust root = TrustAnchorStore.managed(client, NAMESPACE, "issuer-anchor", Clock.systemUTC());
    try (IssuerServer down = IssuerServer.start(unreachable, root, settings("issuer-anchor", true), Clock.systemUTC())) {
      ManagedChannel toDown = IssuerClients.channelTrusting(down.trustAnchors(), down.port());
      try {
        assertThatThrownBy(() -> IssuerGrpc.newBlockingStub(toDown).withDeadlineAfter(20, TimeUnit.SECONDS)
            .certify(IssuerClients.request(Csrs.askingFor(Certificates.newKeyPair(),
                "spiffe://mesh.test/ns/shop/sa/billing"), BILLING_TOKEN)))
            .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      } finally {
        toDown.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aCsrThatIsNotOneOrIsSignedByAnotherKeyIsRefused() throws Exception {
    byte[] csr = Csrs.askingFor(Certificates.newKeyPair(), "spiffe://mesh.test/ns/shop/sa/billing");
    byte[] tampered = csr.clone();
    tampered[tampered.length - 10] ^= 0x01;  // inside the signature

    for (byte[] bad : List.of("not a csr".getBytes(StandardCharsets.US_ASCII), tampered)) {
      assertThatThrownBy(() -> certify(bad, BILLING_TOKEN))
          .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
  }

  @Test
  void anotherReplicaUsesTheAnchorTheFirstOneStoredAndItsLeavesVerifyUnderIt() throws Exception {
    try (IssuerServer second = IssuerServer.start(client, settings("issuer-anchor", true), Clock.systemUTC())) {
      assertThat(second.trustAnchors()).isEqualTo(issuer.trustAnchors());
      ManagedChannel toSecond = IssuerClients.channelTrusting(issuer.trustAnchors(), second.port());
      try {
        CertifyResponse answer = IssuerGrpc.newBlockingStub(toSecond).withDeadlineAfter(20, TimeUnit.SECONDS)
            .certify(IssuerClients.request(Csrs.askingFor(Certificates.newKeyPair(), "spiffe://mesh.test/ns/shop/sa/billing"),
                BILLING_TOKEN));
        assertThat(new PeerVerifier(issuer.trustAnchors(), "mesh.test", Clock.systemUTC())
            .verify(IssuerClients.certificates(answer.getChainList())).serviceAccount()).isEqualTo("billing");
      } finally {
        toSecond.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    Secret stored = client.secrets().inNamespace(NAMESPACE).withName("issuer-anchor").get();
    assertThat(stored.getData()).containsOnlyKeys("ca.crt", "tls.crt", "tls.key");
  }

  @Test
  void aProvidedAnchorSignsAndIsNeverWritten() throws Exception {
    KeyPair rootKey = Certificates.newKeyPair();
    Instant now = Instant.now();
    X509Certificate root = Certificates.selfSignedCa(rootKey, "users-root", now.minusSeconds(60), now.plus(Duration.ofDays(90)));
    provide("users-root", Map.of("ca.crt", Pem.certificates(List.of(root)), "tls.key", Pem.privateKey(rootKey.getPrivate())));

    List<X509Certificate> chain = certifyAt(IssuerServer.start(client, settings("users-root", false), Clock.systemUTC()));

    assertThat(chain).hasSize(2);
    assertThat(new PeerVerifier(List.of(root), "mesh.test", Clock.systemUTC()).verify(chain).serviceAccount())
        .isEqualTo("billing");
    assertThat(client.secrets().inNamespace(NAMESPACE).withName("users-root").get().getData())
        .containsOnlyKeys("ca.crt", "tls.key");
  }

  @Test
  void aProvidedCaUnderTheUsersRootIsSentInTheChainAndPeersTrustTheRoot() throws Exception {
    // as a cert-manager CA Certificate stores it: tls.crt the CA it issued, ca.crt the root above it
    KeyPair rootKey = Certificates.newKeyPair();
    KeyPair caKey = Certificates.newKeyPair();
    Instant now = Instant.now();
    X509Certificate root = Certificates.selfSignedCa(rootKey, "users-root", now.minusSeconds(60), now.plus(Duration.ofDays(90)));
    X509Certificate ca = TestCas.caUnder(new Authority(root, rootKey.getPrivate()), caKey, "users-mesh-ca",
        now.minusSeconds(60), now.plus(Duration.ofDays(60)));
    provide("users-ca", Map.of("ca.crt", Pem.certificates(List.of(root)), "tls.crt", Pem.certificates(List.of(ca)),
        "tls.key", Pem.privateKey(caKey.getPrivate())));

    List<X509Certificate> chain = certifyAt(IssuerServer.start(client, settings("users-ca", false), Clock.systemUTC()));

    assertThat(chain).hasSize(3).endsWith(ca);
    assertThat(new PeerVerifier(List.of(root), "mesh.test", Clock.systemUTC()).verify(chain).serviceAccount())
        .isEqualTo("billing");
  }

  @Test
  void aProvidedSecretWithoutItsKeyIsRefusedNamingIt() {
    provide("no-key", Map.of("ca.crt", Pem.certificates(issuer.trustAnchors())));

    assertThatThrownBy(() -> IssuerServer.start(client, settings("no-key", false), Clock.systemUTC()))
        .hasMessageContaining("taskmesh-system/no-key").hasMessageContaining("tls.key");
    assertThatThrownBy(() -> IssuerServer.start(client, settings("absent", false), Clock.systemUTC()))
        .hasMessageContaining("does not exist");
    provide("other-key", Map.of("ca.crt", Pem.certificates(issuer.trustAnchors()),
        "tls.key", Pem.privateKey(Certificates.newKeyPair().getPrivate())));
    assertThatThrownBy(() -> IssuerServer.start(client, settings("other-key", false), Clock.systemUTC()))
        .hasMessageContaining("taskmesh-system/other-key").hasMessageContaining("tls.key is not the key of");
  }

  private static void provide(String name, Map<String, String> data) {
    client.secrets().inNamespace(NAMESPACE).resource(new SecretBuilder()
        .withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
        .withType("Opaque").withData(data.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
            entry -> Base64.getEncoder().encodeToString(entry.getValue().getBytes(StandardCharsets.US_ASCII)))))
        .build()).create();  // data, not stringData: the mock does not merge stringData as the API server does
  }

  /** Certifies billing at {@code other}, trusting what it says its anchors are; closes it. */
  private static List<X509Certificate> certifyAt(IssuerServer other) throws Exception {
    try (other) {
      ManagedChannel toOther = IssuerClients.channelTrusting(other.trustAnchors(), other.port());
      try {
        return IssuerClients.certificates(IssuerGrpc.newBlockingStub(toOther).withDeadlineAfter(20, TimeUnit.SECONDS)
            .certify(IssuerClients.request(Csrs.askingFor(Certificates.newKeyPair(), "spiffe://mesh.test/ns/shop/sa/billing"),
                BILLING_TOKEN)).getChainList());
      } finally {
        toOther.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private CertifyResponse certify(byte[] csr, String token) {
    return IssuerGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS).certify(IssuerClients.request(csr, token));
  }


  static IdentitySettings settings(String anchorSecret, boolean managed) {
    return new IdentitySettings(true, "mesh.test", "127.0.0.1", 0, NAMESPACE, "taskmesh-operator", "taskmesh-operator",
        anchorSecret, managed, Duration.ofHours(24));
  }

}
