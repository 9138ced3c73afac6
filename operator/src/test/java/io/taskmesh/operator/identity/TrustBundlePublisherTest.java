package io.taskmesh.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.operator.inject.SidecarInjection;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TrustBundlePublisherTest {
  KubernetesClient client;

  @Test
  void theBundleGoesToLabelledNamespacesAndTheOperatorsOwnWhereTheGatewayRuns() {
    KeyPair key = Certificates.newKeyPair();
    X509Certificate anchor = Certificates.selfSignedCa(key, "root", Instant.now().minusSeconds(60),
        Instant.now().plus(Duration.ofDays(1)));
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop")
        .addToLabels("taskmesh.io/injection", "enabled").endMetadata().build()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("elsewhere").endMetadata().build())
        .create();

    try (TrustBundlePublisher publisher = new TrustBundlePublisher(client, () -> List.of(anchor), Set.of("taskmesh-system"))) {
      publisher.start();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(bundle("taskmesh-system")).isEqualTo(Pem.certificates(List.of(anchor)));
        assertThat(bundle("shop")).isEqualTo(Pem.certificates(List.of(anchor)));
      });
    }
    assertThat(client.configMaps().inNamespace("elsewhere").withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).get())
        .isNull();
  }

  private String bundle(String namespace) {
    ConfigMap map = client.configMaps().inNamespace(namespace).withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).get();
    return map == null ? null : map.getData().get(SidecarInjection.TRUST_BUNDLE_KEY);
  }
}
