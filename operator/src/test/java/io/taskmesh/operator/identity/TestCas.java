package io.taskmesh.operator.identity;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** CAs the operator never makes but users' PKIs do: a CA without a path length limit under a root. */
final class TestCas {
  private TestCas() {}

  static X509Certificate caUnder(Authority root, KeyPair key, String commonName, Instant from, Instant until)
      throws Exception {
    var builder = new JcaX509v3CertificateBuilder(root.certificate(), BigInteger.valueOf(System.nanoTime()),
        Date.from(from), Date.from(until), new X500Name("CN=" + commonName), key.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(root.key())));
  }
}
