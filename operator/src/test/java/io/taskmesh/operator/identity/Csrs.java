package io.taskmesh.operator.identity;

import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** CSRs as a workload (or an impostor) would send them. */
public final class Csrs {
  private Csrs() {}

  public static byte[] asking(KeyPair key, GeneralName... names) throws Exception {
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
    return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=taskmesh"), key.getPublic())
        .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
        .getEncoded();
  }

  public static byte[] askingFor(KeyPair key, String uri) throws Exception {
    return asking(key, new GeneralName(GeneralName.uniformResourceIdentifier, uri));
  }
}
