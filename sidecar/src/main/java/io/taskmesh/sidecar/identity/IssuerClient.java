package io.taskmesh.sidecar.identity;

import com.google.protobuf.ByteString;
import io.netty.handler.ssl.SslProvider;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.identity.v1.CertifyRequest;
import io.taskmesh.identity.v1.CertifyResponse;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import io.taskmesh.sidecar.rpc.GrpcMethod;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Asks the operator's issuer for a certificate: TLS to the issuer, trusting only the trust bundle and
 * checking its name like any TLS client. The chain that comes back must prove exactly the identity asked
 * for under an anchor of that bundle, or it is not used.
 */
public final class IssuerClient implements AutoCloseable {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final GrpcMethod<CertifyRequest, CertifyResponse> CERTIFY =
      GrpcMethod.of("taskmesh.identity.v1.Issuer", "Certify", CertifyResponse.parser());
  private final GrpcChannel channel;
  private final Supplier<PeerVerifier> bundle;
  private final TokenFile token;
  private final Duration lifetime;

  /**
   * @param authority the name the issuer's certificate must carry (its Service's DNS name)
   * @param bundle the trust anchors of the mounted trust bundle in force, and our trust domain
   */
  public IssuerClient(String host, int port, String authority, Supplier<PeerVerifier> bundle, TokenFile token,
      Duration lifetime) {
    this(host, port, authority, bundle, token, lifetime, null, SslProvider.JDK);
  }

  /**
   * @param netty the event loops that carry the channel (the proxy's); null: a loop of its own
   * @param provider the TLS engine
   */
  public IssuerClient(String host, int port, String authority, Supplier<PeerVerifier> bundle, TokenFile token,
      Duration lifetime, NettyResources netty, SslProvider provider) {
    this.channel = GrpcChannel.tls(netty, host, port, authority,
        ControlPlaneTls.issuer(provider, () -> bundle.get().trustAnchors()));
    this.bundle = bundle;
    this.token = token;
    this.lifetime = lifetime;
  }

  /** A new key and a certificate for it. */
  public WorkloadCertificate certify(SpiffeId id) throws IOException, CertificateException {
    CertificateRequest request = CertificateRequest.forIdentity(id);
    CertifyResponse response = channel.blockingUnary(CERTIFY, CertifyRequest.newBuilder()
        .setCsr(ByteString.copyFrom(request.der()))
        .setToken(token.read())
        .setLifetimeSeconds((int) Math.min(Integer.MAX_VALUE, lifetime.toSeconds()))
        .build(), DEADLINE);
    List<X509Certificate> chain = certificates(response.getChainList());
    PeerVerifier verifier = bundle.get();
    SpiffeId issued = verifier.verify(chain);
    if (!issued.equals(id)) {
      throw new CertificateException("the issuer certified " + issued + ", we asked for " + id);
    }
    if (!chain.get(0).getPublicKey().equals(request.key().getPublic())) {
      throw new CertificateException("the issuer's certificate is not for the key we sent");
    }
    List<X509Certificate> anchors = response.getTrustAnchorsCount() == 0 ? verifier.trustAnchors()
        : certificates(response.getTrustAnchorsList());
    return new WorkloadCertificate(id, request.key().getPrivate(), chain, anchors);
  }

  private static List<X509Certificate> certificates(List<ByteString> ders) throws CertificateException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> certificates = new ArrayList<>();
    for (ByteString der : ders) {
      certificates.add((X509Certificate) factory.generateCertificate(der.newInput()));
    }
    if (certificates.isEmpty()) {
      throw new CertificateException("the issuer sent no certificate");
    }
    return certificates;
  }

  @Override
  public void close() {
    channel.close();
  }
}
