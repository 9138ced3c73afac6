package io.taskmesh.helm;

import static io.taskmesh.helm.ChartFixture.only;
import static io.taskmesh.helm.ChartFixture.render;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.webhook.WebhookSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator's webhook settings, read from the environment the chart gives it, agree with the objects the
 * chart makes: the certificate names the Service the API server calls, the caBundle goes to the chart's
 * webhook configuration, and the port and certificate directory are the ones the pod exposes and mounts.
 */
class OperatorReadsTheChartTest {

  @Test
  void aManagedCertificateNamesTheServiceTheWebhookConfigurationCalls() {
    List<HasMetadata> objects = render(Map.of());
    WebhookSettings settings = WebhookSettings.fromEnvironment(environment(objects));
    MutatingWebhookConfiguration webhook = only(objects, MutatingWebhookConfiguration.class);
    Service service = only(objects, Service.class);

    assertThat(settings.enabled()).isTrue();
    assertThat(settings.certManaged()).isTrue();
    assertThat(settings.configName()).isEqualTo(webhook.getMetadata().getName());
    assertThat(webhook.getWebhooks()).allSatisfy(hook -> assertThat(settings.dnsNames()).contains(
        hook.getClientConfig().getService().getName() + "." + hook.getClientConfig().getService().getNamespace() + ".svc"));
    assertThat(service.getSpec().getPorts()).anySatisfy(port -> {
      assertThat(port.getPort()).isEqualTo(webhook.getWebhooks().get(0).getClientConfig().getService().getPort());
      assertThat(operator(objects).getPorts()).anySatisfy(containerPort -> {
        assertThat(containerPort.getName()).isEqualTo(port.getTargetPort().getStrVal());
        assertThat(containerPort.getContainerPort()).isEqualTo(settings.port());
      });
    });
  }

  @Test
  void anOwnCertificateIsReadFromWhereItIsMounted() {
    List<HasMetadata> objects = render(Map.of("webhook.certificateSecret", "injector-tls", "webhook.port", 8443));
    WebhookSettings settings = WebhookSettings.fromEnvironment(environment(objects));

    assertThat(settings.certManaged()).isFalse();
    assertThat(settings.port()).isEqualTo(8443);
    assertThat(operator(objects).getVolumeMounts())
        .anySatisfy(mount -> assertThat(Path.of(mount.getMountPath())).isEqualTo(settings.certDir()));
  }

  @Test
  void theChartsPullSecretsReachTheOperatorForThePodsItMakesAndInjects() {
    List<HasMetadata> objects = render(Map.of("images.pullSecrets[0].name", "regcred",
        "images.pullSecrets[1].name", "mirror"));

    assertThat(OperatorSettings.fromEnvironment(environment(objects)).imagePullSecrets())
        .containsExactly("regcred", "mirror");
    assertThat(OperatorSettings.fromEnvironment(environment(render(Map.of()))).imagePullSecrets()).isEmpty();
  }

  @Test
  void turningTheWebhookOffTurnsItOffInTheOperator() {
    assertThat(WebhookSettings.fromEnvironment(environment(render(Map.of("webhook.enabled", false)))).enabled())
        .isFalse();
  }

  private static Container operator(List<HasMetadata> objects) {
    return only(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  /** The container's environment as the kubelet would set it, with field references resolved. */
  private static Map<String, String> environment(List<HasMetadata> objects) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar variable : operator(objects).getEnv()) {
      if (variable.getValueFrom() == null) {
        env.put(variable.getName(), variable.getValue());
      } else if ("metadata.namespace".equals(variable.getValueFrom().getFieldRef().getFieldPath())) {
        env.put(variable.getName(), ChartFixture.NAMESPACE);
      } else {
        env.put(variable.getName(), "taskmesh-operator-7d9f-abcde");
      }
    }
    return env;
  }
}
