package io.taskmesh.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.operator.TestTaskServices;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.EndpointSliceWatcher;
import io.taskmesh.operator.discovery.MeshedPods;
import io.taskmesh.operator.inject.SidecarInjection;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The trust bundle is wherever a sidecar may need it: namespaces with a TaskService, namespaces labelled for
 * injection, the operator's own (the chart's gateway), and any namespace where a meshed pod appears (opted in by
 * its own label) or a TaskService is created, those at once.
 */
@EnableKubernetesMockClient(crud = true)
class TrustBundlePublisherTest {
  static KubernetesClient client;

  @Test
  void everyNamespaceWithSidecarsGetsTheBundleAndANewAnchorReachesThem() throws Exception {
    client.resource(new NamespaceBuilder().withNewMetadata().withName("labelled")
        .addToLabels("taskmesh.io/injection", "enabled").endMetadata().build()).create();
    client.resource(TestTaskServices.withTimeout("shop", "tasks", "2s")).create();
    AtomicReference<List<X509Certificate>> anchors = new AtomicReference<>(List.of(root("first")));
    try (MeshedPods meshedPods = new MeshedPods(client, "cluster.local");
        TrustBundlePublisher publisher = new TrustBundlePublisher(client, anchors::get, Set.of("taskmesh-system"));
        EndpointSliceWatcher slices = new EndpointSliceWatcher(client, new EndpointRegistry(), Optional.of(meshedPods))) {
      publisher.start();
      meshedPods.onNewPod(publisher::publishSoon);
      slices.start(); // starts the meshed pods' informer, as the operator's main does

      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(bundle("shop")).as("namespace of a TaskService").isEqualTo(Pem.certificates(anchors.get()));
        assertThat(bundle("labelled")).as("namespace labelled for injection").isEqualTo(Pem.certificates(anchors.get()));
        assertThat(bundle("taskmesh-system")).as("the operator's own, where the gateway runs")
            .isEqualTo(Pem.certificates(anchors.get()));
      });
      assertThat(bundle("elsewhere")).isNull();

      client.resource(new PodBuilder().withNewMetadata().withName("tool").withNamespace("elsewhere")
          .addToLabels(SidecarInjection.TLS_MODE_LABEL, SidecarInjection.TLS_MODE_MTLS).endMetadata()
          .withNewSpec().addNewContainer().withName("app").endContainer().endSpec().build()).create();
      await("the bundle where a meshed pod appeared, before the next pass").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(bundle("elsewhere")).isEqualTo(Pem.certificates(anchors.get())));

      client.resource(TestTaskServices.withTimeout("billing", "invoices", "2s")).create();
      await("the bundle where a TaskService was created, before the next pass").atMost(Duration.ofSeconds(20))
          .untilAsserted(() -> assertThat(bundle("billing")).isEqualTo(Pem.certificates(anchors.get())));

      anchors.set(List.of(root("first"), root("second")));
      publisher.ensure("shop");
      assertThat(bundle("shop")).as("both anchors while one replaces the other").isEqualTo(Pem.certificates(anchors.get()));
    }
  }

  private static String bundle(String namespace) {
    ConfigMap map = client.configMaps().inNamespace(namespace).withName(SidecarInjection.TRUST_BUNDLE_CONFIGMAP).get();
    return map == null || map.getData() == null ? null : map.getData().get(SidecarInjection.TRUST_BUNDLE_KEY);
  }

  private static X509Certificate root(String name) {
    return Certificates.selfSignedCa(Certificates.newKeyPair(), name, Instant.now(), Instant.now().plus(Duration.ofDays(1)));
  }
}
