package io.taskmesh.helm;

import static io.taskmesh.helm.ChartFixture.only;
import static io.taskmesh.helm.ChartFixture.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Who the webhook sees and who may reach it: opted-in namespaces fail closed, other namespaces only send
 * labelled pods and never block; a NetworkPolicy admits only the API server to the webhook port; the HA
 * values run two replicas spread over nodes with a disruption budget.
 */
class WebhookExposureTest {

  @Test
  void theNamespaceEntryFailsClosedAndThePodEntrySeesOnlyLabelledPods() {
    MutatingWebhookConfiguration configuration = only(render(Map.of()), MutatingWebhookConfiguration.class);
    MutatingWebhook namespaces = hook(configuration, "namespace.sidecar-injector.taskmesh.io");
    MutatingWebhook pods = hook(configuration, "pod.sidecar-injector.taskmesh.io");

    assertThat(namespaces.getFailurePolicy()).isEqualTo("Fail");
    assertThat(namespaces.getNamespaceSelector().getMatchExpressions()).anySatisfy(e -> {
      assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
      assertThat(e.getOperator()).isEqualTo("NotIn");
      assertThat(e.getValues()).contains("kube-system", ChartFixture.NAMESPACE);
    });
    assertThat(pods.getFailurePolicy()).isEqualTo("Ignore");
    assertThat(pods.getObjectSelector().getMatchLabels()).containsExactly(Map.entry("taskmesh.io/inject", "true"));
    assertThat(hook(only(render(Map.of("webhook.failurePolicy", "Ignore")), MutatingWebhookConfiguration.class),
        "namespace.sidecar-injector.taskmesh.io").getFailurePolicy()).isEqualTo("Ignore");
  }

  @Test
  void theNetworkPolicyAdmitsOnlyTheApiServerToTheWebhookPort() {
    List<HasMetadata> objects = render(Map.of("networkPolicy.enabled", true,
        "networkPolicy.apiServerCIDRs[0]", "172.18.0.2/32"));
    NetworkPolicy policy = only(objects, NetworkPolicy.class);

    NetworkPolicyIngressRule webhook = policy.getSpec().getIngress().stream()
        .filter(rule -> rule.getPorts().get(0).getPort().getIntVal() == 9443).findFirst().orElseThrow();
    assertThat(webhook.getFrom()).singleElement()
        .satisfies(peer -> assertThat(peer.getIpBlock().getCidr()).isEqualTo("172.18.0.2/32"));
    assertThat(policy.getSpec().getIngress()).filteredOn(rule -> rule.getPorts().get(0).getPort().getIntVal() == 15010)
        .singleElement().satisfies(rule -> assertThat(rule.getFrom().get(0).getNamespaceSelector()).isNotNull());
    assertThat(policy.getSpec().getPodSelector().getMatchLabels())
        .isEqualTo(only(objects, Deployment.class).getSpec().getSelector().getMatchLabels());
    assertThat(render(Map.of())).noneMatch(NetworkPolicy.class::isInstance);
    assertThatThrownBy(() -> render(Map.of("networkPolicy.enabled", true)))
        .hasMessageContaining("networkPolicy.apiServerCIDRs");
  }

  @Test
  void theHaValuesRunTwoSpreadReplicasWithADisruptionBudget() throws IOException {
    JsonNode ha = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(ChartFixture.CHART.resolve("values-ha.yaml")));
    Map<String, Object> values = new HashMap<>();
    flatten("", ha, values);
    List<HasMetadata> objects = render(values);

    Deployment operator = only(objects, Deployment.class);
    assertThat(operator.getSpec().getReplicas()).isEqualTo(2);
    assertThat(operator.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()).isNotNull();
    PodDisruptionBudget budget = only(objects, PodDisruptionBudget.class);
    assertThat(budget.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
    assertThat(budget.getSpec().getSelector().getMatchLabels()).isEqualTo(operator.getSpec().getSelector().getMatchLabels());
    assertThat(render(Map.of())).as("one replica by default, no budget").noneMatch(PodDisruptionBudget.class::isInstance);
  }

  private static MutatingWebhook hook(MutatingWebhookConfiguration configuration, String name) {
    return configuration.getWebhooks().stream().filter(h -> h.getName().equals(name)).findFirst().orElseThrow();
  }

  /** values-ha.yaml as --set keys, since Helm's template command here takes values one by one. */
  private static void flatten(String prefix, JsonNode node, Map<String, Object> into) {
    if (node.isObject()) {
      node.fields().forEachRemaining(f -> flatten(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey().replace(".", "\\."),
          f.getValue(), into));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        flatten(prefix + "[" + i + "]", node.get(i), into);
      }
    } else {
      into.put(prefix, node.isNumber() ? node.numberValue() : node.isBoolean() ? node.asBoolean() : node.asText());
    }
  }
}
