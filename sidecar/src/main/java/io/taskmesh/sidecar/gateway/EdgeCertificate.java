package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.ConfigException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The certificate chain and private key the gateway presents to outside clients, read from the PEM files of a
 * {@code kubernetes.io/tls} Secret. A pair is taken only whole: a chain with a leaf that is valid now, and the
 * private key of that leaf (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted). Anything else is refused with a
 * {@link ConfigException} naming the key of the file at fault.
 */
record EdgeCertificate(List<X509Certificate> chain, PrivateKey key) {
  /** The config keys of the default pair; an entry of {@code gateway.tls.certificates} has its own. */
  static final String DEFAULT_PAIR = "gateway.tls";
  static final String CERT_KEY = DEFAULT_PAIR + ".certFile";
  static final String KEY_KEY = DEFAULT_PAIR + ".keyFile";
  private static final SecureRandom RANDOM = new SecureRandom();

  EdgeCertificate {
    chain = List.copyOf(chain);
  }

  X509Certificate leaf() {
    return chain.get(0);
  }

  String serial() {
    return leaf().getSerialNumber().toString(16);
  }

  /**
   * @param pair where the pair's files are named in the config ({@code gateway.tls}, or an entry of
   *     {@code gateway.tls.certificates}): errors name {@code <pair>.certFile} or {@code <pair>.keyFile}
   * @param certPem the contents of {@code certFile}
   * @param keyPem the contents of {@code keyFile}
   */
  static EdgeCertificate parse(String pair, String certFile, byte[] certPem, String keyFile, byte[] keyPem,
      Instant now) {
    String certKey = pair + ".certFile";
    String keyKey = pair + ".keyFile";
    List<X509Certificate> chain = certificates(certKey, certFile, certPem);
    PrivateKey key = privateKey(keyKey, keyFile, keyPem);
    X509Certificate leaf = chain.get(0);
    if (leaf.getNotAfter().toInstant().isBefore(now)) {
      throw new ConfigException(certKey, certFile + ": the certificate expired at " + leaf.getNotAfter().toInstant());
    }
    if (!signsFor(keyKey, key, leaf)) {
      throw new ConfigException(keyKey, keyFile + ": this key does not belong to the certificate of " + certFile
          + " (" + leaf.getSubjectX500Principal().getName() + ")");
    }
    return new EdgeCertificate(chain, key);
  }

  /**
   * Whether the leaf's DNS names cover {@code serverName}: the same name, a {@code *.domain} of the leaf's matching
   * one label in front of {@code domain}, or the same {@code *.domain}.
   */
  boolean covers(String serverName) {
    try {
      Collection<List<?>> names = leaf().getSubjectAlternativeNames();
      if (names == null) {
        return false;
      }
      for (List<?> name : names) {
        if (Integer.valueOf(2).equals(name.get(0))) {  // dNSName
          String dns = name.get(1).toString().toLowerCase(Locale.ROOT);
          if (dns.equals(serverName) || (dns.startsWith("*.") && !serverName.startsWith("*.")
              && serverName.indexOf('.') > 0 && serverName.substring(serverName.indexOf('.')).equals(dns.substring(1)))) {
            return true;
          }
        }
      }
      return false;
    } catch (CertificateParsingException e) {
      return false;
    }
  }

  /** The PEM certificates of {@code file}, at least one; a {@link ConfigException} naming {@code key} otherwise. */
  static List<X509Certificate> certificates(String key, String file, byte[] pem) {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser parser = parser(pem)) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        if (object instanceof X509CertificateHolder holder) {
          chain.add(converter.getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException e) {
      throw new ConfigException(key, file + ": not PEM certificates (" + e.getMessage() + ")");
    }
    if (chain.isEmpty()) {
      throw new ConfigException(key, file + ": holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return chain;
  }

  private static PrivateKey privateKey(String keyKey, String file, byte[] pem) {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser parser = parser(pem)) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        if (object instanceof PEMKeyPair pair) {  // PKCS#1 RSA, SEC1 EC
          return converter.getPrivateKey(pair.getPrivateKeyInfo());  // the public half may be absent
        } else if (object instanceof PrivateKeyInfo info) {  // PKCS#8
          return converter.getPrivateKey(info);
        } else if (!(object instanceof ASN1ObjectIdentifier)) {  // the EC PARAMETERS block openssl writes first
          throw new ConfigException(keyKey, file + ": holds a " + object.getClass().getSimpleName()
              + ", not an unencrypted private key");
        }
      }
    } catch (PEMException e) {
      throw new ConfigException(keyKey, file + ": not a usable private key (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new ConfigException(keyKey, file + ": not PEM (" + e.getMessage() + ")");
    }
    throw new ConfigException(keyKey, file + ": holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
  }

  /** Whether {@code key} makes signatures the leaf's public key verifies: the two are one pair. */
  private static boolean signsFor(String keyKey, PrivateKey key, X509Certificate leaf) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> "SHA256withECDSA";
      default -> throw new ConfigException(keyKey, "a " + key.getAlgorithm() + " key; RSA or EC keys are supported");
    };
    try {
      byte[] challenge = new byte[32];
      RANDOM.nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {  // e.g. an RSA key for an EC certificate
      return false;
    }
  }

  private static PEMParser parser(byte[] pem) {
    return new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)));
  }
}
