package io.taskmesh.operator.identity;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.identity.v1.CertifyRequest;
import io.taskmesh.identity.v1.CertifyResponse;
import io.taskmesh.identity.v1.IssuerGrpc;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Certify: the token is reviewed first, and the CSR is signed only for the SPIFFE ID of the ServiceAccount
 * the token proves. UNAUTHENTICATED for a token that proves nothing, PERMISSION_DENIED for a CSR asking for
 * another identity, INVALID_ARGUMENT for a CSR that cannot be used, UNAVAILABLE when the token cannot be
 * reviewed now (the API server unreachable).
 */
public final class IssuerService extends IssuerGrpc.IssuerImplBase {
  private static final Logger log = LoggerFactory.getLogger(IssuerService.class);
  private final TokenReviewer reviewer;
  private final WorkloadCertificateSigner signer;
  private final List<X509Certificate> anchors;
  private final String trustDomain;

  public IssuerService(TokenReviewer reviewer, IssuingAuthority authority, String trustDomain) {
    this.reviewer = reviewer;
    this.signer = new WorkloadCertificateSigner(authority);
    this.anchors = authority.root().anchors();
    SpiffeId.checkTrustDomain(trustDomain);
    this.trustDomain = trustDomain;
  }

  @Override
  public void certify(CertifyRequest request, StreamObserver<CertifyResponse> response) {
    SpiffeId proven;
    try {
      TokenReviewer.ServiceAccount account = reviewer.review(request.getToken());
      proven = new SpiffeId(trustDomain, account.namespace(), account.name());
    } catch (TokenReviewer.InvalidToken e) {
      log.info("event=certificate_refused reason=unauthenticated detail=\"{}\"", e.getMessage());
      response.onError(Status.UNAUTHENTICATED.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (RuntimeException e) {
      log.warn("event=token_review_failed detail=\"{}\"", e.toString());
      response.onError(Status.UNAVAILABLE.withDescription("the token cannot be reviewed now: " + e.getMessage())
          .asRuntimeException());
      return;
    }
    try {
      List<X509Certificate> chain = signer.sign(request.getCsr().toByteArray(), proven,
          Duration.ofSeconds(request.getLifetimeSeconds()));
      CertifyResponse.Builder answer = CertifyResponse.newBuilder().setSpiffeId(proven.uri());
      for (X509Certificate certificate : chain) {
        answer.addChain(ByteString.copyFrom(certificate.getEncoded()));
      }
      for (X509Certificate anchor : anchors) {
        answer.addTrustAnchors(ByteString.copyFrom(anchor.getEncoded()));
      }
      log.info("event=certificate_issued spiffe_id={} not_after={}", proven, chain.get(0).getNotAfter().toInstant());
      response.onNext(answer.build());
      response.onCompleted();
    } catch (RefusedCsr e) {
      Status status = e.reason() == RefusedCsr.Reason.WRONG_IDENTITY ? Status.PERMISSION_DENIED : Status.INVALID_ARGUMENT;
      log.info("event=certificate_refused reason={} spiffe_id={} detail=\"{}\"", e.reason(), proven, e.getMessage());
      response.onError(status.withDescription(e.getMessage()).asRuntimeException());
    } catch (CertificateEncodingException e) {
      response.onError(Status.INTERNAL.withDescription("cannot encode the certificate").withCause(e).asRuntimeException());
    }
  }
}
