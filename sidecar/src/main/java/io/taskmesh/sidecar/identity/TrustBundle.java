package io.taskmesh.sidecar.identity;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/** The trust anchors the pod is given (a PEM file from the trust bundle ConfigMap), and JSSE trust from them. */
public final class TrustBundle {
  private TrustBundle() {}

  public static List<X509Certificate> read(Path pemFile) throws IOException {
    try (InputStream in = Files.newInputStream(pemFile)) {
      List<X509Certificate> anchors = new ArrayList<>();
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        anchors.add((X509Certificate) certificate);
      }
      if (anchors.isEmpty()) {
        throw new IOException("trust bundle " + pemFile + " holds no certificate");
      }
      return anchors;
    } catch (CertificateException e) {
      throw new IOException("trust bundle " + pemFile + " is not PEM certificates: " + e.getMessage(), e);
    }
  }

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
}
