package io.taskmesh.operator.identity;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;

/** A CA that can sign: its certificate and the private key that goes with it. */
public record Authority(X509Certificate certificate, PrivateKey key) {
  public Authority {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(key, "key");
  }

  @Override
  public String toString() {
    return "Authority[" + certificate.getSubjectX500Principal() + ", key hidden]";
  }
}
