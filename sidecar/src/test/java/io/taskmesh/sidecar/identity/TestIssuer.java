package io.taskmesh.sidecar.identity;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.identity.v1.CertifyRequest;
import io.taskmesh.identity.v1.CertifyResponse;
import io.taskmesh.identity.v1.IssuerGrpc;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * An issuer on 127.0.0.1 over TLS (certificate for {@link #NAME}) that certifies the identity a token maps
 * to - the operator's issuer checks tokens with the API server; its behaviour is tested in the operator.
 */
final class TestIssuer implements AutoCloseable {
  static final String NAME = "taskmesh-operator.taskmesh-system.svc";
  private final Server server;
  private final AtomicInteger calls = new AtomicInteger();

  /** @param certifies token to the identity to certify (which may differ from the one asked: a lying issuer) */
  TestIssuer(TestAuthority authority, Map<String, SpiffeId> certifies, Duration lifetime) throws Exception {
    WorkloadCertificate serving = authority.serverCertificate(NAME);
    TlsServerCredentials tls = (TlsServerCredentials) TlsServerCredentials.newBuilder().keyManager(
        new ByteArrayInputStream(pem(serving.chain()).getBytes(StandardCharsets.US_ASCII)),
        new ByteArrayInputStream(("-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder().encodeToString(serving.key().getEncoded())
            + "\n-----END PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII))).build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), tls)
        .addService(new IssuerGrpc.IssuerImplBase() {
          @Override
          public void certify(CertifyRequest request, StreamObserver<CertifyResponse> response) {
            calls.incrementAndGet();
            SpiffeId id = certifies.get(request.getToken());
            if (id == null) {
              response.onError(Status.UNAUTHENTICATED.withDescription("unknown token").asRuntimeException());
              return;
            }
            try {
              var csr = new JcaPKCS10CertificationRequest(request.getCsr().toByteArray());
              CertifyResponse.Builder answer = CertifyResponse.newBuilder().setSpiffeId(id.uri());
              for (X509Certificate certificate : authority.leafChain(csr.getPublicKey(), id.uri(),
                  Instant.now().minusSeconds(1), lifetime)) {
                answer.addChain(ByteString.copyFrom(certificate.getEncoded()));
              }
              answer.addTrustAnchors(ByteString.copyFrom(authority.anchors().get(0).getEncoded()));
              response.onNext(answer.build());
              response.onCompleted();
            } catch (Exception e) {
              response.onError(Status.INVALID_ARGUMENT.withDescription(e.toString()).asRuntimeException());
            }
          }
        })
        .build()
        .start();
  }

  int port() {
    return server.getPort();
  }

  int calls() {
    return calls.get();
  }

  private static String pem(Iterable<X509Certificate> certificates) throws Exception {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate certificate : certificates) {
      pem.append("-----BEGIN CERTIFICATE-----\n").append(Base64.getMimeEncoder().encodeToString(certificate.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    return pem.toString();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
