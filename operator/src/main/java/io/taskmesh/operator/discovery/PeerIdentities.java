package io.taskmesh.operator.discovery;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Puts the SPIFFE ID a discovery peer's client certificate proves into the call's context ({@link #current}); a
 * plaintext call (identity off) has none. The TLS layer has already checked the chain against the mesh's trust
 * anchors.
 */
final class PeerIdentities implements ServerInterceptor {
  private static final Context.Key<SpiffeId> PEER = Context.key("taskmesh.discovery.peer");

  static Optional<SpiffeId> current() {
    return Optional.ofNullable(PEER.get());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return next.startCall(call, headers);
    }
    try {
      if (session.getPeerCertificates().length > 0 && session.getPeerCertificates()[0] instanceof X509Certificate leaf) {
        return Contexts.interceptCall(Context.current().withValue(PEER, PeerVerifier.spiffeId(leaf)), call, headers, next);
      }
    } catch (SSLPeerUnverifiedException | CertificateException e) {
      // falls through to the refusal
    }
    call.close(io.grpc.Status.UNAUTHENTICATED.withDescription(
        "discovery needs a workload certificate naming a SPIFFE ID"), new Metadata());
    return new ServerCall.Listener<>() { };
  }
}
