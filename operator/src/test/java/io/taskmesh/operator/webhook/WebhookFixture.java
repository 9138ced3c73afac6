package io.taskmesh.operator.webhook;

import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/** The webhook configuration the chart installs, and one admission as the API server sends it. */
public final class WebhookFixture {
  private WebhookFixture() {}

  /** Two entries (namespace-selected and annotation-selected) pointing at the Service, as in the chart. */
  public static MutatingWebhookConfiguration configuration(String name) {
    MutatingWebhookConfigurationBuilder builder = new MutatingWebhookConfigurationBuilder()
        .withNewMetadata().withName(name).endMetadata();
    for (String hook : new String[] {"namespace.sidecar-injector.taskmesh.io", "pod.sidecar-injector.taskmesh.io"}) {
      builder.addNewWebhook().withName(hook).withAdmissionReviewVersions("v1").withSideEffects("None")
          .withNewClientConfig().withNewService().withName("localhost").withNamespace("taskmesh-system")
            .withPath(WebhookServer.PATH).withPort(443).endService().endClientConfig()
          .endWebhook();
    }
    return builder.build();
  }

  /** The caBundle the operator wrote into configuration {@code name}. */
  public static String caBundle(KubernetesClient client, String name) {
    return client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name).get()
        .getWebhooks().get(0).getClientConfig().getCaBundle();
  }

  /** Sends the admission of a pod annotated for {@code service} (app port 50051) and returns the answer. */
  public static AdmissionResponse admitPod(KubernetesClient client, WebhookSettings settings, int port,
      String namespace, String service) throws Exception {
    WebhookClient apiServer = new WebhookClient(caBundle(client, settings.configName()), port);
    return apiServer.review(AdmissionReviews.creating(namespace, AdmissionReviews.pod(
        Map.of("taskmesh.io/app-port", "50051", "taskmesh.io/service", service)))).getResponse();
  }
}
