package io.taskmesh.sidecar.identity;

import io.netty.handler.ssl.SslHandler;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;

/** Who is at the other end of a finished mTLS handshake: the SPIFFE ID its verified certificate names. */
public final class PeerIdentity {
  private PeerIdentity() {}

  /** Empty before the handshake has finished or when the peer sent no certificate. */
  public static Optional<SpiffeId> of(SslHandler handler) {
    try {
      Certificate[] peer = handler.engine().getSession().getPeerCertificates();
      return peer.length == 0 || !(peer[0] instanceof X509Certificate leaf)
          ? Optional.empty() : Optional.of(PeerVerifier.spiffeId(leaf));
    } catch (SSLPeerUnverifiedException | CertificateException e) {
      return Optional.empty();
    }
  }
}
