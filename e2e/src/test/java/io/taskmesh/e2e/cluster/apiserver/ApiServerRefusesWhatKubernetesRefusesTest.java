package io.taskmesh.e2e.cluster.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The local API server refuses what a real one refuses, so a test on the local cluster cannot pass what a
 * cluster would not take: TaskServices against the generated CRD's schema and CEL rules, unknown fields pruned
 * (or refused under strict field validation, as kubectl asks), plus ClusterIPs from the service range. Runs
 * without root: only the API server, over HTTPS on 127.0.0.1.
 */
class ApiServerRefusesWhatKubernetesRefusesTest {
  private static ApiServer server;
  private static KubernetesClient api;

  @BeforeAll
  static void start() throws Exception {
    server = ApiServer.start(List.of(InetAddress.getLoopbackAddress()), 0, "10.213.250.0/24");
    api = server.client();
    CustomResourceDefinition crd = Serialization.unmarshal(
        Files.readString(Path.of("..", "crds", "taskservices.taskmesh.io-v1.yml")), CustomResourceDefinition.class);
    api.resource(crd).create();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static GenericKubernetesResource taskService(String name, String specYaml) {
    return Serialization.unmarshal("apiVersion: taskmesh.io/v1alpha1\nkind: TaskService\nmetadata: {name: " + name
        + ", namespace: default}\nspec:\n" + specYaml.indent(2), GenericKubernetesResource.class);
  }

  private static HasMetadata create(GenericKubernetesResource resource) {
    return api.genericKubernetesResources("taskmesh.io/v1alpha1", "TaskService").inNamespace("default")
        .resource(resource).create();
  }

  @Test
  void aTaskServiceViolatingTheSchemaIsRefusedNamingTheField() {
    assertThatThrownBy(() -> create(taskService("bad-replicas", "replicas: -1")))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("spec.replicas: must be >= 0");
    assertThat(api.genericKubernetesResources("taskmesh.io/v1alpha1", "TaskService").inNamespace("default")
        .withName("bad-replicas").get()).isNull();
  }

  @Test
  void aTaskServiceBreakingACelRuleIsRefused() {
    assertThatThrownBy(() -> create(taskService("shared-store", "replicas: 3")))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.replicas > 1 needs spec.database.postgresUrlSecret");
  }

  @Test
  void anUnknownFieldIsPrunedWithAWarningOrRefusedUnderStrictValidation() {
    HasMetadata stored = create(taskService("pruned", "{replicas: 1, replica: 2}"));
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) ((GenericKubernetesResource) stored).getAdditionalProperties()
        .get("spec");
    assertThat(spec).containsEntry("replicas", 1).doesNotContainKey("replica");
    assertThatThrownBy(() -> api.genericKubernetesResources("taskmesh.io/v1alpha1", "TaskService").inNamespace("default")
        .resource(taskService("strict", "{replicas: 1, replica: 2}"))
        .fieldValidation(FieldValidateable.Validation.STRICT).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("unknown field \"spec.replica\"");
  }

  @Test
  void aPatchIsCheckedAgainstTheSchemaToo() {
    create(taskService("patched", "replicas: 1"));
    var resource = api.genericKubernetesResources("taskmesh.io/v1alpha1", "TaskService").inNamespace("default")
        .withName("patched");
    assertThatThrownBy(() -> resource.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
            io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), "{\"spec\":{\"port\":70000}}"))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.port: must be <= 65535");
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) resource.get().getAdditionalProperties().get("spec");
    assertThat(spec).doesNotContainKey("port");
  }

  @Test
  void servicesGetClusterIpsFromTheServiceRangeAndKeepThemOnUpdate() {
    var created = api.services().inNamespace("default").resource(new ServiceBuilder().withNewMetadata()
        .withName("web").endMetadata().withNewSpec().addToSelector("app", "web").addNewPort().withPort(80).endPort()
        .endSpec().build()).create();
    assertThat(created.getSpec().getClusterIP()).startsWith("10.213.250.").isNotEqualTo("10.213.250.1");
    assertThat(api.services().inNamespace("default").withName("kubernetes").get().getSpec().getClusterIP())
        .isEqualTo("10.213.250.1");
    String allocated = created.getSpec().getClusterIP();
    created.getSpec().setClusterIP(null);
    created.getSpec().setClusterIPs(null);
    var updated = api.services().inNamespace("default").resource(created).update();
    assertThat(updated.getSpec().getClusterIP()).isEqualTo(allocated);
    assertThatThrownBy(() -> api.services().inNamespace("nowhere").resource(new ServiceBuilder().withNewMetadata()
        .withName("lost").endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()).create())
        .hasMessageContaining("namespaces \"nowhere\" not found");
  }
}
