package io.taskmesh.operator.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.operator.Operators;
import org.junit.jupiter.api.Test;

/**
 * What the chart's hooks do, on the mock API server: the pre-upgrade hook replaces an older TaskService CRD
 * with the one the operator was built with; the post-delete hook leaves neither the certificate Secret nor
 * the Lease behind, and finding them gone already is no failure.
 */
@EnableKubernetesMockClient(crud = true)
class ReleaseLifecycleTest {
  static KubernetesClient client;

  @Test
  void anUpgradeReplacesAnOlderCrdWithTheBundledOne() {
    CustomResourceDefinition older = CrdInstaller.bundled();
    older.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec")
        .getProperties().remove("sidecar");
    older.getMetadata().getLabels().put("app.kubernetes.io/managed-by", "Helm");
    client.resource(older).create();

    assertThat(CrdInstaller.apply(client))
        .isEqualTo("taskservices.taskmesh.io updated, authorizationpolicies.taskmesh.io created");

    CustomResourceDefinition current = client.apiextensions().v1().customResourceDefinitions()
        .withName("taskservices.taskmesh.io").get();
    assertThat(current.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec")
        .getProperties()).containsKey("sidecar");
    assertThat(current.getMetadata().getLabels()).as("Helm's ownership labels are kept")
        .containsEntry("app.kubernetes.io/managed-by", "Helm");
  }

  @Test
  void anUninstallRemovesTheSecretAndTheLeaseTheOperatorMade() {
    client.resource(new SecretBuilder().withNewMetadata().withName("taskmesh-operator-webhook-cert")
        .withNamespace("taskmesh-system").endMetadata().build()).create();
    client.resource(new LeaseBuilder().withNewMetadata().withName(Operators.LEASE_NAME)
        .withNamespace("taskmesh-system").endMetadata().withNewSpec().withHolderIdentity("operator-0").endSpec()
        .build()).create();

    assertThat(ReleaseCleanup.run(client, "taskmesh-system", "taskmesh-operator-webhook-cert", true))
        .containsExactly("secret/taskmesh-operator-webhook-cert", "lease/" + Operators.LEASE_NAME);

    assertThat(client.secrets().inNamespace("taskmesh-system").list().getItems()).isEmpty();
    assertThat(client.leases().inNamespace("taskmesh-system").list().getItems()).isEmpty();
    assertThat(ReleaseCleanup.run(client, "taskmesh-system", "taskmesh-operator-webhook-cert", true)).isEmpty();
  }
}
