package io.taskmesh.sidecar.identity;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** JSSE trust in the trust anchors the pod is given (see {@link TrustBundleFile}). */
public final class TrustBundle {
  private TrustBundle() {}

  /** Standard PKIX trust in exactly these anchors (for the issuer, whose name is checked as any host's). */
  public static TrustManager[] trustManagers(List<X509Certificate> anchors) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      for (int i = 0; i < anchors.size(); i++) {
        store.setCertificateEntry("anchor-" + i, anchors.get(i));
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      return factory.getTrustManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("a key store in memory cannot fail to hold certificates", e);
    }
  }

  /**
   * Standard PKIX trust in the anchors {@code anchors} gives at each check, so a reloaded bundle applies from the
   * next handshake on (for the issuer and the control plane, whose host names are checked as any host's).
   */
  public static X509ExtendedTrustManager following(Supplier<List<X509Certificate>> anchors) {
    return new X509ExtendedTrustManager() {
      private X509ExtendedTrustManager now() {
        return (X509ExtendedTrustManager) trustManagers(anchors.get())[0];
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        now().checkClientTrusted(chain, authType, socket);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        now().checkServerTrusted(chain, authType, socket);
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
          throws CertificateException {
        now().checkClientTrusted(chain, authType, engine);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
          throws CertificateException {
        now().checkServerTrusted(chain, authType, engine);
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        now().checkClientTrusted(chain, authType);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        now().checkServerTrusted(chain, authType);
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return anchors.get().toArray(X509Certificate[]::new);
      }
    };
  }
}
