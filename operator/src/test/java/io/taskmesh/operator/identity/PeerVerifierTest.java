package io.taskmesh.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.Test;

/** The peer verifier sidecars use, against chains the operator's issuer signs and chains it never signed. */
class PeerVerifierTest {
  private static final SpiffeId BILLING = new SpiffeId("mesh.test", "shop", "billing");
  private final Instant now = Instant.now();
  private final RootOfTrust root = root("mesh-root");
  private final IssuingAuthority authority = new IssuingAuthority(root, Duration.ofHours(24), Clock.systemUTC());
  private final PeerVerifier verifier = new PeerVerifier(root.anchors(), "mesh.test", Clock.systemUTC());

  @Test
  void aChainTheIssuerSignedProvesItsSpiffeIdEvenWithTheAnchorAppended() throws Exception {
    List<X509Certificate> chain = issue(BILLING, Duration.ofHours(1));
    List<X509Certificate> withAnchor = new ArrayList<>(chain);
    withAnchor.addAll(root.anchors());

    assertThat(verifier.verify(chain)).isEqualTo(BILLING);
    assertThat(verifier.verify(withAnchor)).isEqualTo(BILLING);
  }

  @Test
  void anExpiredCertificateIsRefused() throws Exception {
    List<X509Certificate> chain = issue(BILLING, Duration.ofHours(1));
    Clock twoHoursLater = Clock.fixed(now.plus(Duration.ofHours(2)), ZoneOffset.UTC);

    assertThatThrownBy(() -> new PeerVerifier(root.anchors(), "mesh.test", twoHoursLater).verify(chain))
        .isInstanceOf(CertificateException.class).hasMessageContaining("expired");
  }

  @Test
  void aCertificateOfAnotherTrustDomainIsRefusedThoughItChainsToOurAnchor() throws Exception {
    List<X509Certificate> chain = issue(new SpiffeId("other.domain", "shop", "billing"), Duration.ofHours(1));

    assertThatThrownBy(() -> verifier.verify(chain))
        .isInstanceOf(CertificateException.class).hasMessageContaining("trust domain 'other.domain', not 'mesh.test'");
  }

  @Test
  void certificatesOurAnchorDidNotSignAreRefused() throws Exception {
    KeyPair key = Certificates.newKeyPair();
    X509Certificate selfSigned = Certificates.endEntity(new Authority(
            Certificates.selfSignedCa(key, "impostor", now.minusSeconds(60), now.plusSeconds(3600)), key.getPrivate()),
        Certificates.commonName("impostor"), key.getPublic(), uri(BILLING.uri()), now.minusSeconds(60),
        now.plusSeconds(3600), KeyPurposeId.id_kp_clientAuth);
    IssuingAuthority elsewhere = new IssuingAuthority(root("another-mesh"), Duration.ofHours(24), Clock.systemUTC());
    List<X509Certificate> otherMesh = new WorkloadCertificateSigner(elsewhere)
        .sign(Csrs.askingFor(Certificates.newKeyPair(), BILLING.uri()), BILLING, Duration.ofHours(1));

    for (List<X509Certificate> chain : List.of(List.of(selfSigned), otherMesh, otherMesh.subList(0, 1))) {
      assertThatThrownBy(() -> verifier.verify(chain)).isInstanceOf(CertificateException.class)
          .hasMessageContaining("does not chain to our trust anchor");
    }
  }

  @Test
  void aLeafThatIsACaOrNamesNoSpiffeIdIsRefused() throws Exception {
    IssuingAuthority.Issuing issuing = authority.current();
    KeyPair key = Certificates.newKeyPair();
    X509Certificate hostOnly = Certificates.endEntity(issuing.intermediate(), Certificates.commonName("billing"),
        key.getPublic(), new GeneralNames(new GeneralName(GeneralName.dNSName, "billing.shop.svc")),
        now.minusSeconds(60), now.plusSeconds(3600), KeyPurposeId.id_kp_serverAuth);

    assertThatThrownBy(() -> verifier.verify(issuing.chain())).hasMessageContaining("is a CA");
    assertThatThrownBy(() -> verifier.verify(List.of(hostOnly, issuing.chain().get(0))))
        .hasMessageContaining("exactly one URI");
    assertThatThrownBy(() -> verifier.verify(List.of())).hasMessageContaining("no certificate");
  }

  @Test
  void aLeafNeverOutlivesTheIntermediateAndLongRequestsAreCutToTheMaximum() throws Exception {
    List<X509Certificate> chain = issue(BILLING, Duration.ofDays(30));

    assertThat(chain.get(0).getNotAfter().toInstant()).isBeforeOrEqualTo(now.plus(Duration.ofHours(24)).plusSeconds(5))
        .isBeforeOrEqualTo(chain.get(1).getNotAfter().toInstant());
  }

  private List<X509Certificate> issue(SpiffeId id, Duration lifetime) throws Exception {
    // a wrong-domain CSR is signed here only to test the verifier: the issuer proves ids in its own domain
    return new WorkloadCertificateSigner(authority).sign(Csrs.askingFor(Certificates.newKeyPair(), id.uri()), id,
        lifetime);
  }

  private RootOfTrust root(String name) {
    KeyPair key = Certificates.newKeyPair();
    X509Certificate anchor = Certificates.selfSignedCa(key, name, now.minusSeconds(60), now.plus(Duration.ofDays(365)));
    return RootOfTrust.of(new Authority(anchor, key.getPrivate()), List.of(anchor));
  }

  private static GeneralNames uri(String uri) {
    return new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
  }
}
