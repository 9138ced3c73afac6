package io.taskmesh.identity;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust for mesh peers, either side of the handshake: a chain to our trust anchors whose leaf names one
 * SPIFFE ID in our trust domain ({@link PeerVerifier}). No host name check: a peer is who its certificate
 * says; the connector compares that identity with the one discovery expects, the control plane bounds what
 * the identity may read.
 */
public final class SpiffeTrustManager extends X509ExtendedTrustManager {
  private final PeerVerifier verifier;

  public SpiffeTrustManager(PeerVerifier verifier) {
    this.verifier = verifier;
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    verifier.verify(chain == null ? List.of() : List.of(chain));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    check(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return verifier.trustAnchors().toArray(X509Certificate[]::new);
  }
}
