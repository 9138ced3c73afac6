package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;

/** Keeps the caBundle of every webhook in one MutatingWebhookConfiguration equal to the CA we serve under. */
public final class CaBundlePatcher {
  private final KubernetesClient client;
  private final String configName;

  public CaBundlePatcher(KubernetesClient client, String configName) {
    this.client = client;
    this.configName = configName;
  }

  /**
   * @return {@code false} when the configuration does not exist (yet); nothing is created, the chart owns it
   */
  public boolean patch(String caBundle) {
    var resource = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(configName);
    MutatingWebhookConfiguration current = resource.get();
    if (current == null) {
      return false;
    }
    boolean upToDate = current.getWebhooks().stream()
        .allMatch(hook -> Objects.equals(caBundle, hook.getClientConfig().getCaBundle()));
    if (!upToDate) {
      resource.edit(config -> {
        config.getWebhooks().forEach(hook -> hook.getClientConfig().setCaBundle(caBundle));
        return config;
      });
    }
    return true;
  }
}
