package io.taskmesh.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.inject.SidecarInjection;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class TrustBundlePublisherTest {
  static KubernetesClient client;

  @Test
  void theOperatorsOwnNamespaceGetsTheBundleWithNoTaskServiceInIt() throws Exception {
    Instant now = Instant.now();
    X509Certificate root = Certificates.selfSignedCa(Certificates.newKeyPair(), "mesh-root", now.minusSeconds(60),
        now.plus(Duration.ofDays(1)));
    try (TrustBundlePublisher publisher = new TrustBundlePublisher(client, () -> List.of(root), "taskmesh-system")) {
      publisher.start();
      // the gateway's sidecar runs there and mounts the bundle
      ConfigMap bundle = await().atMost(Duration.ofSeconds(30)).until(() -> client.configMaps()
          .inNamespace("taskmesh-system").withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).get(), found -> found != null);
      assertThat(bundle.getData()).containsEntry(SidecarInjection.TRUST_BUNDLE_KEY, Pem.certificates(List.of(root)));

      // a TaskService created after the first look-over: its pods wait for the bundle, which must not wait a minute
      TaskService shop = new TaskService();
      shop.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").build());
      client.resource(shop).create();
      await().atMost(Duration.ofSeconds(20)).until(() -> client.configMaps().inNamespace("shop")
          .withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).get(), found -> found != null);
    }
  }
}
