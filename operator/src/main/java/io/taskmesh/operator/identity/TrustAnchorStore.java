package io.taskmesh.operator.identity;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
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
      PrivateKey key = Pem.readPrivateKey(decode(data.get("tls.key")), where + " tls.key");
      if (!matches(key, signing)) {
        throw new IllegalArgumentException("tls.key is not the key of " + signing.getSubjectX500Principal()
            + " (" + (data.containsKey("tls.crt") ? "tls.crt" : "ca.crt") + ")");
      }
      return RootOfTrust.of(new Authority(signing, key), anchors);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  /** Whether {@code key} signs what {@code certificate}'s public key verifies. */
  private static boolean matches(PrivateKey key, X509Certificate certificate) {
    String algorithm = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    byte[] probe = "taskmesh-trust-anchor-key-check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signer.sign());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static String encode(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
  }
}
