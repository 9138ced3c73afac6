package io.taskmesh.operator.identity;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/** PEM in and out: certificates, and private keys as PKCS#8, PKCS#1 (RSA) or SEC1 (EC), whichever was written. */
public final class Pem {
  private Pem() {}

  public static String certificates(List<X509Certificate> certificates) {
    return write(writer -> {
      for (X509Certificate certificate : certificates) {
        writer.writeObject(certificate);
      }
    });
  }

  /** As PKCS#8 ("BEGIN PRIVATE KEY"), whatever the algorithm. */
  public static String privateKey(PrivateKey key) {
    return write(writer -> writer.writeObject(new JcaPKCS8Generator(key, null)));
  }

  /**
   * @param what names the input in the error, e.g. the Secret key it came from
   * @throws IllegalArgumentException when the text holds no certificate or one that cannot be read
   */
  public static List<X509Certificate> readCertificates(String pem, String what) {
    List<X509Certificate> certificates = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
        if (item instanceof X509CertificateHolder holder) {
          certificates.add(new JcaX509CertificateConverter().getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new IllegalArgumentException(what + ": not a PEM X.509 certificate: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException(what + ": holds no PEM certificate");
    }
    return certificates;
  }

  /** @throws IllegalArgumentException naming {@code what} when no private key can be read from the text */
  public static PrivateKey readPrivateKey(String pem, String what) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      for (Object item = parser.readObject(); item != null; item = parser.readObject()) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        if (item instanceof PrivateKeyInfo pkcs8) {
          return converter.getPrivateKey(pkcs8);
        }
        if (item instanceof PEMKeyPair pair) {
          return converter.getPrivateKey(pair.getPrivateKeyInfo());  // SEC1 may omit the public key
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(what + ": cannot read the private key (PKCS#8, PKCS#1 RSA or SEC1 EC PEM): "
          + e.getMessage(), e);
    }
    throw new IllegalArgumentException(what + ": holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)");
  }

  private interface PemWriting {
    void to(JcaPEMWriter writer) throws IOException;
  }

  private static String write(PemWriting writing) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writing.to(writer);
    } catch (IOException e) {
      throw new UncheckedIOException("writing PEM to memory", e);
    }
    return text.toString();
  }
}
