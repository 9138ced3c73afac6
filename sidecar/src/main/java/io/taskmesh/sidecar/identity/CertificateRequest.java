package io.taskmesh.sidecar.identity;

import io.taskmesh.identity.SpiffeId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A fresh ECDSA P-256 key, made in memory for one certificate, and the PKCS#10 request for it: no subject,
 * one URI subject alternative name, the SPIFFE ID, which is what the issuer signs or refuses.
 */
public record CertificateRequest(KeyPair key, byte[] der) {
  private static final SecureRandom RANDOM = new SecureRandom();

  public static CertificateRequest forIdentity(SpiffeId id) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      KeyPair key = generator.generateKeyPair();
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(Extension.subjectAlternativeName, true,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.uri())));
      byte[] der = new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), key.getPublic())
          .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
          .getEncoded();
      return new CertificateRequest(key, der);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("every JVM has ECDSA P-256", e);
    } catch (IOException e) {
      throw new UncheckedIOException("encoding a CSR in memory", e);
    }
  }

  @Override
  public byte[] der() {
    return der.clone();
  }

  @Override
  public String toString() {
    return "CertificateRequest[" + der.length + " bytes, key hidden]";
  }
}
