package io.taskmesh.operator.webhook;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import static io.taskmesh.operator.webhook.AdmissionReviews.creating;
import static io.taskmesh.operator.webhook.AdmissionReviews.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.operator.TestTaskServices;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@EnableKubernetesMockClient(crud = true)
class CertificateStoreTest {
  static KubernetesClient client;

  @Test
  void aCertificateCloseToExpiryIsReplacedAndTheOldCaStaysTrustedMeanwhile() throws Exception {
    WebhookSettings settings = settings("rotating-cert", "unused");
    ServingCertificate first = CertificateStore.managed(client, settings, Clock.systemUTC());
    Clock elevenMonthsLater = Clock.fixed(Instant.now().plus(Duration.ofDays(340)), ZoneOffset.UTC);

    ServingCertificate second = CertificateStore.managed(client, settings, elevenMonthsLater);

    assertThat(second.certPem()).isNotEqualTo(first.certPem());
    assertThat(second.serves(settings.dnsNames(), elevenMonthsLater.instant(), CertificateStore.RENEW_BEFORE)).isTrue();
    List<java.security.cert.Certificate> cas = List.copyOf(CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(second.caPem().getBytes(StandardCharsets.US_ASCII))));
    assertThat(cas).hasSize(2).contains((java.security.cert.Certificate) first.ca());
    Secret stored = client.secrets().inNamespace("taskmesh-system").withName("rotating-cert").get();
    assertThat(decode(stored.getData().get("tls.crt"))).isEqualTo(second.certPem());
  }

  @Test
  void aCertificateStillValidIsKept() {
    WebhookSettings settings = settings("kept-cert", "unused");
    ServingCertificate first = CertificateStore.managed(client, settings, Clock.systemUTC());

    ServingCertificate again = CertificateStore.managed(client, settings, Clock.systemUTC());

    assertThat(again).isEqualTo(first);
  }

  @Test
  void aCertificateForAnotherServiceIsReplaced() {
    ServingCertificate old = CertificateStore.managed(client, settings("renamed-cert", "old-name"), Clock.systemUTC());

    ServingCertificate renamed = CertificateStore.managed(client, settings("renamed-cert", "new-name"), Clock.systemUTC());

    assertThat(renamed.certPem()).isNotEqualTo(old.certPem());
    assertThat(renamed.serves(List.of("new-name.taskmesh-system.svc"), Instant.now(), Duration.ZERO)).isTrue();
  }

  @Test
  void aMountedCertificateIsServedAndItsCaPatchedIntoTheBundle(@TempDir Path dir) throws Exception {
    ServingCertificate own = ServingCertificate.selfSigned(List.of("localhost"), Duration.ofDays(30), Clock.systemUTC());
    Files.writeString(dir.resolve("tls.crt"), own.certPem());
    Files.writeString(dir.resolve("tls.key"), own.keyPem());
    Files.writeString(dir.resolve("ca.crt"), own.caPem());
    client.resource(InjectionWebhookTest.webhookConfiguration("mounted-injector")).create();
    WebhookSettings mounted = new WebhookSettings(true, "127.0.0.1", 0, "taskmesh-system", "mounted-injector",
        "localhost", "ignored", false, dir);

    try (InjectionWebhook webhook = InjectionWebhook.start(client, TestTaskServices.SETTINGS, mounted, Clock.systemUTC(),
        new WebhookMetrics(new SimpleMeterRegistry()))) {
      String bundle = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName("mounted-injector")
          .get().getWebhooks().get(0).getClientConfig().getCaBundle();

      assertThat(bundle).isEqualTo(own.caBundle());
      assertThat(new WebhookClient(bundle, webhook.port()).review(creating("any", pod(Map.of()))).getResponse()
          .getAllowed()).isTrue();
    }
    assertThat(client.secrets().inNamespace("taskmesh-system").withName("ignored").get()).isNull();
  }

  private static WebhookSettings settings(String secret, String service) {
    return new WebhookSettings(true, "127.0.0.1", 0, "taskmesh-system", "no-such-config", service, secret, true,
        Path.of("unused"));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
  }
}
