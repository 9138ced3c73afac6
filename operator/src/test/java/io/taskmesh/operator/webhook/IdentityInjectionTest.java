package io.taskmesh.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import io.taskmesh.config.IdentityConfig;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.TestTaskServices;
import io.taskmesh.operator.dependent.ConfigMapDependent;
import io.taskmesh.operator.dependent.DeploymentDependent;
import io.taskmesh.operator.inject.SidecarIdentity;
import io.taskmesh.operator.inject.SidecarInjection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * With the issuer on, every sidecar the operator makes or injects gets a workload identity: the identity section in
 * its config, the projected token and the trust bundle where that config's defaults read them, and the label that
 * makes discovery announce the pod's SPIFFE ID.
 */
class IdentityInjectionTest {
  private static final OperatorSettings OFF = TestTaskServices.SETTINGS;
  private static final OperatorSettings ON = new OperatorSettings(OFF.proxyImage(), OFF.proxyInitImage(),
      OFF.taskServiceImage(), OFF.discoveryAddress(), OFF.imagePullSecrets(), SidecarIdentity.fromEnvironment(Map.of(
          "TASKMESH_IDENTITY_ENABLED", "true", "TASKMESH_NAMESPACE", "mesh-system", "TASKMESH_TRUST_DOMAIN", "corp.example")));

  @Test
  void aTaskServicesPodsGetTheTokenTheTrustBundleAndAConfigThatUsesThem() {
    var service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    PodSpec pod = DeploymentDependent.build(service, ON, Optional.empty()).getSpec().getTemplate().getSpec();
    Deployment plain = DeploymentDependent.build(service, OFF, Optional.empty());

    assertIdentityMounted(pod.getVolumes(), proxy(pod.getInitContainers()));
    assertThat(DeploymentDependent.build(service, ON, Optional.empty()).getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("taskmesh.io/tls-mode", "mtls");
    assertThat(plain.getSpec().getTemplate().getSpec().getVolumes()).extracting(Volume::getName)
        .doesNotContain("taskmesh-token", "taskmesh-trust");
    assertThat(plain.getSpec().getTemplate().getMetadata().getLabels()).doesNotContainKey("taskmesh.io/tls-mode");

    ConfigMap config = ConfigMapDependent.build(service, ON);
    IdentityConfig identity = MeshConfigParser.parse(config.getData().get(ConfigMapDependent.CONFIG_KEY)).identity();
    assertThat(identity.mode()).isEqualTo(IdentityMode.PERMISSIVE);
    assertThat(identity.trustDomain()).isEqualTo("corp.example");
    assertThat(identity.issuerAddress()).isEqualTo("taskmesh-operator.mesh-system.svc:15012");
    assertThat(MeshConfigParser.parse(ConfigMapDependent.build(service, OFF).getData()
        .get(ConfigMapDependent.CONFIG_KEY)).identity()).isEqualTo(IdentityConfig.OFF);
  }

  @Test
  void anInjectedPodGetsTheSameMountsAndItsLabel() throws Exception {
    Pod pod = new PodBuilder().withNewMetadata().withName("orders-0").withNamespace("shop").endMetadata()
        .withNewSpec().withServiceAccountName("orders").addNewContainer().withName("app").endContainer().endSpec()
        .build();
    JsonNode patch = PodPatch.inject(pod, ON, SidecarInjection.Capture.inbound(), SidecarInjection.configVolume("x"),
        SidecarInjection.defaultResources(), Map.of("taskmesh.io/injected", "true"));
    Pod patched = Serialization.jsonMapper().treeToValue(
        JsonPatch.apply(patch, Serialization.jsonMapper().valueToTree(pod)), Pod.class);

    assertIdentityMounted(patched.getSpec().getVolumes(), proxy(patched.getSpec().getInitContainers()));
    assertThat(patched.getMetadata().getLabels()).containsEntry("taskmesh.io/tls-mode", "mtls");
  }

  @Test
  void strictModeIsReadAndAWrongModeIsNamed() {
    assertThat(SidecarIdentity.fromEnvironment(Map.of("TASKMESH_IDENTITY_ENABLED", "true", "TASKMESH_MTLS_MODE",
        "strict")).mode()).isEqualTo(IdentityMode.STRICT);
    assertThat(SidecarIdentity.fromEnvironment(Map.of()).enabled()).isFalse();
    assertThatThrownBy(() -> SidecarIdentity.fromEnvironment(Map.of("TASKMESH_IDENTITY_ENABLED", "true",
        "TASKMESH_MTLS_MODE", "on"))).hasMessageContaining("TASKMESH_MTLS_MODE").hasMessageContaining("\"on\"");
  }

  private static Container proxy(List<Container> initContainers) {
    return initContainers.stream().filter(c -> SidecarInjection.CONTAINER_NAME.equals(c.getName())).findFirst()
        .orElseThrow();
  }

  private static void assertIdentityMounted(List<Volume> volumes, Container proxy) {
    Volume token = volumes.stream().filter(v -> v.getName().equals("taskmesh-token")).findFirst().orElseThrow();
    var projected = token.getProjected().getSources().get(0).getServiceAccountToken();
    assertThat(projected.getAudience()).isEqualTo("taskmesh");
    assertThat(projected.getPath()).isEqualTo("token");
    Volume trust = volumes.stream().filter(v -> v.getName().equals("taskmesh-trust")).findFirst().orElseThrow();
    assertThat(trust.getConfigMap().getName()).isEqualTo("taskmesh-trust-bundle");
    assertThat(proxy.getVolumeMounts()).extracting(VolumeMount::getMountPath)
        .contains("/var/run/secrets/taskmesh.io/token", "/var/run/secrets/taskmesh.io/trust");
    assertThat(IdentityConfig.DEFAULT_TOKEN_PATH).isEqualTo("/var/run/secrets/taskmesh.io/token/token");
    assertThat(IdentityConfig.DEFAULT_TRUST_BUNDLE_PATH).isEqualTo("/var/run/secrets/taskmesh.io/trust/ca.crt");
  }
}
