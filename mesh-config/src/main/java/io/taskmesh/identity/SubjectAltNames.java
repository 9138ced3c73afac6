package io.taskmesh.identity;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The subject alternative names of one kind that a certificate carries, as strings. */
public final class SubjectAltNames {
  /** GeneralName tags (RFC 5280 4.2.1.6) as the JDK reports them. */
  public static final int DNS = 2;
  public static final int URI = 6;

  private SubjectAltNames() {}

  public static List<String> of(X509Certificate certificate, int type) throws CertificateParsingException {
    List<String> names = new ArrayList<>();
    Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
    if (alternatives != null) {
      alternatives.stream().filter(name -> Integer.valueOf(type).equals(name.get(0)))
          .forEach(name -> names.add((String) name.get(1)));
    }
    return names;
  }
}
