package io.taskmesh.operator.identity;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Where the root of trust comes from: a Secret in the operator's namespace.
 *
 * <p>Managed: the first replica to start makes a self-signed ECDSA root valid for {@link #ANCHOR_VALIDITY}
 * and creates the Secret (ca.crt, tls.crt, tls.key); the others read it (a 409 on create means another
 * replica won). Provided: a Secret the user keeps (e.g. a cert-manager CA Certificate): tls.key and ca.crt,
 * and tls.crt when the signing CA is not the anchor itself. The operator never writes a provided Secret.
 */
public final class TrustAnchorStore {
  static final Duration ANCHOR_VALIDITY = Duration.ofDays(3650);
  static final String ANCHOR_NAME = "taskmesh-trust-anchor";

  private TrustAnchorStore() {}

  public static RootOfTrust managed(KubernetesClient client, String namespace, String secretName, Clock clock) {
    var secrets = client.secrets().inNamespace(namespace);
    Secret existing = secrets.withName(secretName).get();
    if (existing != null) {
      return read(existing);
    }
    KeyPair key = Certificates.newKeyPair();
    Instant from = clock.instant().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofMinutes(1));
    X509Certificate anchor = Certificates.selfSignedCa(key, ANCHOR_NAME, from, from.plus(ANCHOR_VALIDITY));
    String anchorPem = Pem.certificates(List.of(anchor));
    Secret secret = new SecretBuilder()
        .withNewMetadata().withName(secretName).withNamespace(namespace)
          .addToLabels("app.kubernetes.io/managed-by", "taskmesh-operator")
        .endMetadata()
        .withType("Opaque")
        .withData(Map.of("ca.crt", encode(anchorPem), "tls.crt", encode(anchorPem),
            "tls.key", encode(Pem.privateKey(key.getPrivate()))))
        .build();
    try {
      secrets.resource(secret).create();
      return RootOfTrust.of(new Authority(anchor, key.getPrivate()), List.of(anchor));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      return read(secrets.withName(secretName).require());  // another replica made it first: use theirs
    }
  }

  public static RootOfTrust provided(KubernetesClient client, String namespace, String secretName) {
    Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
    if (secret == null) {
      throw new IllegalArgumentException("trust anchor Secret " + namespace + "/" + secretName + " does not exist");
    }
    return read(secret);
  }

  private static RootOfTrust read(Secret secret) {
    String where = "Secret " + secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    for (String key : List.of("ca.crt", "tls.key")) {
      if (!data.containsKey(key)) {
        throw new IllegalArgumentException(where + " has no " + key + " (it needs ca.crt and tls.key, and tls.crt "
            + "when the signing CA is not the trust anchor)");
      }
    }
    List<X509Certificate> anchors = Pem.readCertificates(decode(data.get("ca.crt")), where + " ca.crt");
    X509Certificate signing = data.containsKey("tls.crt")
        ? Pem.readCertificates(decode(data.get("tls.crt")), where + " tls.crt").get(0)
        : anchors.get(0);
    try {
      return RootOfTrust.of(new Authority(signing, Pem.readPrivateKey(decode(data.get("tls.key")), where + " tls.key")),
          anchors);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static String encode(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
  }
}
