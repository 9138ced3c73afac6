package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the webhook's serving certificate comes from.
 *
 * <p>Managed: one Secret in the operator's namespace, shared by every operator replica so that they all
 * serve a certificate the one caBundle trusts. The first replica to start creates it; a certificate that
 * does not name the Service or expires within {@link #RENEW_BEFORE} is replaced, and the new ca.crt keeps
 * the previous CA after the new one, so replicas still serving the old certificate stay trusted until they
 * pick up the new one. Writes use the Secret's resourceVersion; on a conflict the winner's Secret is read.
 *
 * <p>Mounted: tls.crt, tls.key and optionally ca.crt from a directory (a Secret the user manages, e.g.
 * with cert-manager); without ca.crt the caBundle is left to whoever issued the certificate.
 */
public final class CertificateStore {
  static final Duration VALIDITY = Duration.ofDays(365);
  static final Duration RENEW_BEFORE = Duration.ofDays(30);
  private static final Pattern FIRST_PEM =
      Pattern.compile("-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\\s*", Pattern.DOTALL);

  private CertificateStore() {}

  public static ServingCertificate managed(KubernetesClient client, WebhookSettings settings, Clock clock) {
    var secrets = client.secrets().inNamespace(settings.namespace());
    for (int attempt = 1; ; attempt++) {
      Secret secret = secrets.withName(settings.certSecret()).get();
      ServingCertificate current = secret == null ? null : fromSecret(secret);
      if (current != null && current.serves(settings.dnsNames(), clock.instant(), RENEW_BEFORE)) {
        return current;
      }
      ServingCertificate fresh = ServingCertificate.selfSigned(settings.dnsNames(), VALIDITY, clock);
      if (current != null && current.ca().getNotAfter().toInstant().isAfter(clock.instant())) {
        String bothCas = fresh.caPem() + firstCertificate(current.caPem());
        fresh = new ServingCertificate(bothCas, fresh.certPem(), fresh.keyPem());
      }
      try {
        if (secret == null) {
          secrets.resource(toSecret(settings, fresh)).create();
        } else {
          Secret replaced = toSecret(settings, fresh);
          replaced.getMetadata().setResourceVersion(secret.getMetadata().getResourceVersion());
          secrets.resource(replaced).update();
        }
        return fresh;
      } catch (KubernetesClientException e) {
        // another replica wrote it first (409): use what it wrote
        if (e.getCode() != 409 || attempt >= 5) {
          throw e;
        }
      }
    }
  }

  public static ServingCertificate mounted(Path directory) {
    try {
      Path ca = directory.resolve("ca.crt");
      String certPem = Files.readString(directory.resolve("tls.crt"));
      return new ServingCertificate(Files.exists(ca) ? Files.readString(ca) : certPem, certPem,
          Files.readString(directory.resolve("tls.key")));
    } catch (IOException e) {
      throw new IllegalArgumentException("webhook certificate directory " + directory
          + " must hold tls.crt and tls.key (from the Secret named by webhook.certificateSecret): " + e, e);
    }
  }

  /** Whether a mounted certificate came with the CA that signed it (else the caBundle is not ours to set). */
  public static boolean hasCa(Path directory) {
    return Files.exists(directory.resolve("ca.crt"));
  }

  private static ServingCertificate fromSecret(Secret secret) {
    Map<String, String> data = secret.getData();
    if (data == null || !data.containsKey("ca.crt") || !data.containsKey("tls.crt") || !data.containsKey("tls.key")) {
      return null;
    }
    try {
      ServingCertificate certificate = new ServingCertificate(decode(data.get("ca.crt")), decode(data.get("tls.crt")),
          decode(data.get("tls.key")));
      certificate.certificate();
      certificate.ca();
      return certificate;
    } catch (IllegalArgumentException unreadable) {
      return null;
    }
  }

  private static Secret toSecret(WebhookSettings settings, ServingCertificate certificate) {
    return new SecretBuilder()
        .withNewMetadata().withName(settings.certSecret()).withNamespace(settings.namespace())
          .addToLabels("app.kubernetes.io/managed-by", "taskmesh-operator")
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(Map.of("ca.crt", encode(certificate.caPem()), "tls.crt", encode(certificate.certPem()),
            "tls.key", encode(certificate.keyPem())))
        .build();
  }

  private static String firstCertificate(String pem) {
    Matcher matcher = FIRST_PEM.matcher(pem);
    return matcher.find() ? matcher.group() : "";
  }

  private static String encode(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
  }
}
