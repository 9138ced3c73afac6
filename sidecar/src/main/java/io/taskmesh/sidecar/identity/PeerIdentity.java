package io.taskmesh.sidecar.identity;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.taskmesh.identity.PeerVerifier;
import io.taskmesh.identity.SpiffeId;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;

/** Who is at the other end of a finished mTLS handshake: the SPIFFE ID its verified certificate names. */
public final class PeerIdentity {
  /**
   * The caller's proven identity, on an inbound connection's channel once its mutual handshake succeeded;
   * absent on a plaintext connection. Read it with {@link #of(Channel)}, which also answers for a stream.
   */
  public static final AttributeKey<SpiffeId> ATTRIBUTE = AttributeKey.valueOf("taskmesh.peer.identity");

  private PeerIdentity() {}

  /**
   * The identity the connection of {@code channel} proved: the channel's own, or for an HTTP/2 stream its
   * connection's. Empty for plaintext (permissive mode) and before the handshake has finished.
   */
  public static Optional<SpiffeId> of(Channel channel) {
    for (Channel c = channel; c != null; c = c.parent()) {
      SpiffeId id = c.attr(ATTRIBUTE).get();
      if (id != null) {
        return Optional.of(id);
      }
    }
    return Optional.empty();
  }

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
