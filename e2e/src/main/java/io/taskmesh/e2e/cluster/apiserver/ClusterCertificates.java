package io.taskmesh.e2e.cluster.apiserver;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster's CA and the API server's serving certificate, made fresh for each cluster: valid for the
 * addresses the API server listens on (IP SANs, which in-cluster clients and kubectl check for an IP host)
 * and for the names {@code kubernetes}, {@code kubernetes.default.svc} and so on.
 */
public final class ClusterCertificates {
  private static final Duration VALIDITY = Duration.ofDays(30);
  private static final char[] KEY_PASSWORD = "local-cluster".toCharArray();

  private final X509Certificate ca;
  private final X509Certificate serving;
  private final KeyPair servingKey;

  private ClusterCertificates(X509Certificate ca, X509Certificate serving, KeyPair servingKey) {
    this.ca = ca;
    this.serving = serving;
    this.servingKey = servingKey;
  }

  public static ClusterCertificates create(List<InetAddress> addresses, List<String> dnsNames) {
    try {
      KeyPair caKey = newKeyPair();
      KeyPair servingKey = newKeyPair();
      Instant from = Instant.now().minus(Duration.ofMinutes(1));
      X500Name caName = new X500Name("CN=taskmesh-local-cluster-ca");
      X509v3CertificateBuilder caBuilder = new JcaX509v3CertificateBuilder(caName, serial(), Date.from(from),
          Date.from(from.plus(VALIDITY)), caName, caKey.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate ca = convert(caBuilder, caKey);
      List<GeneralName> names = new ArrayList<>();
      addresses.forEach(address -> names.add(new GeneralName(GeneralName.iPAddress, address.getHostAddress())));
      dnsNames.forEach(name -> names.add(new GeneralName(GeneralName.dNSName, name)));
      X509v3CertificateBuilder servingBuilder = new JcaX509v3CertificateBuilder(caName, serial(), Date.from(from),
          Date.from(from.plus(VALIDITY)), new X500Name("CN=kube-apiserver"), servingKey.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
          .addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(names.toArray(GeneralName[]::new)));
      return new ClusterCertificates(ca, convert(servingBuilder, caKey), servingKey);
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make the local cluster's certificates", e);
    }
  }

  public String caPem() {
    return pem(ca);
  }

  /** A server-side TLS context presenting the serving certificate. */
  public SSLContext serverContext() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("apiserver", servingKey.getPrivate(), KEY_PASSWORD, new X509Certificate[] {serving, ca});
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, KEY_PASSWORD);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot load the API server's serving certificate", e);
    }
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(64, new SecureRandom()).add(BigInteger.ONE);
  }

  private static X509Certificate convert(X509v3CertificateBuilder builder, KeyPair signer)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
    return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
  }

  private static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }
}
