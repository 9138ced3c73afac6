package io.taskmesh.operator;

import static io.taskmesh.operator.TestTaskServices.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.operator.api.DatabaseSpec;
import io.taskmesh.operator.api.MeshSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.dependent.ConfigMapDependent;
import io.taskmesh.operator.dependent.DeploymentDependent;
import io.taskmesh.operator.dependent.ServiceDependent;
import io.taskmesh.operator.inject.SidecarInjection;
import io.taskmesh.operator.reconciler.ProxyConfigRenderer;
import io.taskmesh.operator.reconciler.SpecProblems;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DesiredStateTest {

  @Test
  void theDeploymentRunsTheAppOnLoopbackBehindANativeSidecar() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    PodSpec pod = DeploymentDependent.build(service, SETTINGS).getSpec().getTemplate().getSpec();

    Container capture = pod.getInitContainers().get(0);
    assertThat(capture.getName()).isEqualTo("taskmesh-init");
    assertThat(capture.getImage()).isEqualTo("taskmesh/proxy-init:test");
    assertThat(capture.getCommand()).containsExactly("/bin/sh", "-c", SidecarInjection.CAPTURE_SCRIPT);
    assertThat(env(capture, "TASKMESH_INBOUND_PORTS")).isEqualTo("50051");
    assertThat(env(capture, "TASKMESH_PROXY_UID")).isEqualTo("2102");
    assertThat(capture.getSecurityContext().getCapabilities().getAdd()).containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW");
    assertThat(capture.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");

    Container sidecar = pod.getInitContainers().get(1);
    assertThat(sidecar.getImage()).isEqualTo("taskmesh/taskmesh-proxy:test");
    assertThat(sidecar.getSecurityContext().getRunAsUser()).isEqualTo(2102L);
    assertThat(sidecar.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
    assertThat(sidecar.getStartupProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(sidecar.getStartupProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15000);
    assertThat(env(sidecar, "TASKMESH_CONFIG")).isEqualTo("/etc/taskmesh/proxy.yaml");

    Container app = pod.getContainers().get(0);
    assertThat(app.getImage()).isEqualTo("taskmesh/task-service:test");
    assertThat(env(app, "TASK_SERVICE_BIND")).isEqualTo("127.0.0.1");
    assertThat(env(app, "TASK_SERVICE_PORT")).isEqualTo("50051");
    assertThat(env(app, "TASKMESH_OUTBOUND")).isEqualTo("127.0.0.1:15001");
    assertThat(app.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(app.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getConfigMap().getName()).isEqualTo("tasks-proxy"));
  }

  @Test
  void theServiceTargetsTheAppPortWhichTheCaptureHandsToTheSidecar() {
    Service service = ServiceDependent.build(TestTaskServices.withTimeout("shop", "tasks", "2s"));

    assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
      assertThat(port.getName()).isEqualTo("grpc");
      assertThat(port.getPort()).isEqualTo(50051);
      assertThat(port.getTargetPort().getIntVal()).isEqualTo(50051);
      assertThat(port.getAppProtocol()).isEqualTo("grpc");
    });
    assertThat(service.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "taskmesh-operator")
        .containsEntry("taskmesh.io/service", "tasks");
  }

  @Test
  void theProxyConfigIsTheSidecarsOwnFormatWithTheCrsMeshSettings() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().mesh.rateLimit = new MeshSpec.RateLimit();
    service.getSpec().mesh.rateLimit.requestsPerSecond = 50.0;
    service.getSpec().mesh.rateLimit.burst = 10;
    ConfigMap configMap = ConfigMapDependent.build(service, SETTINGS);

    MeshConfig config = MeshConfigParser.parse(configMap.getData().get("proxy.yaml"));
    assertThat(config.service()).isEqualTo("tasks");
    assertThat(config.namespace()).isEqualTo("shop");
    assertThat(config.outbound().defaults().timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.inbound().rateLimit().burst()).isEqualTo(10);
    assertThat(config.outbound().discovery().address()).isEqualTo("discovery.test:15010");
    assertThat(configMap.getMetadata().getAnnotations()).containsKey("taskmesh.io/config-hash");
  }

  @Test
  void aMeshChangeChangesTheConfigMapButNotThePodTemplate() {
    TaskService before = TestTaskServices.withTimeout("shop", "tasks", "2s");
    TaskService after = TestTaskServices.withTimeout("shop", "tasks", "3s");

    assertThat(ConfigMapDependent.build(after, SETTINGS).getData())
        .isNotEqualTo(ConfigMapDependent.build(before, SETTINGS).getData());
    assertThat(DeploymentDependent.build(after, SETTINGS).getSpec().getTemplate())
        .isEqualTo(DeploymentDependent.build(before, SETTINGS).getSpec().getTemplate());
  }

  @Test
  void anImageChangeChangesThePodTemplate() {
    TaskService before = TestTaskServices.withTimeout("shop", "tasks", "2s");
    TaskService after = TestTaskServices.withTimeout("shop", "tasks", "2s");
    after.getSpec().image = "registry.example.com/tasks:2";

    Deployment changed = DeploymentDependent.build(after, SETTINGS);
    assertThat(changed.getSpec().getTemplate()).isNotEqualTo(DeploymentDependent.build(before, SETTINGS).getSpec().getTemplate());
    assertThat(changed.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("registry.example.com/tasks:2");
  }

  @Test
  void aPostgresSecretReachesTheAppAsItsDatabaseUrl() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().replicas = 3;
    service.getSpec().database = new DatabaseSpec();
    service.getSpec().database.postgresUrlSecret = new SecretKeySelector("url", "tasks-db", false);

    Container app = DeploymentDependent.build(service, SETTINGS).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(app.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("TASK_SERVICE_DATABASE_URL");
      assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("tasks-db");
    });
    assertThat(SpecProblems.find(service, SETTINGS)).isEmpty();
  }

  @Test
  void severalReplicasOnTheEmbeddedStoreIsAProblemNamingTheFix() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().replicas = 2;

    assertThat(SpecProblems.find(service, SETTINGS)).hasValueSatisfying(problem -> {
      assertThat(problem.reason()).isEqualTo("EmbeddedStoreWithReplicas");
      assertThat(problem.message()).contains("spec.database.postgresUrlSecret");
    });
  }

  @Test
  void meshValuesTheSidecarWouldRefuseAreNamedByTheirCrPath() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().mesh.retries = new MeshSpec.Retries();
    service.getSpec().mesh.retries.retryOn = java.util.List.of("UNAVAILABLE", "NOPE");

    assertThatThrownBy(() -> ProxyConfigRenderer.render(service, SETTINGS))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.key()).isEqualTo("spec.mesh.retries.retryOn"))
        .hasMessageContaining("'NOPE' is not one of");
    assertThat(SpecProblems.find(service, SETTINGS)).hasValueSatisfying(
        problem -> assertThat(problem.reason()).isEqualTo("InvalidMeshConfig"));
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name + " in " + Map.of("container", container.getName())));
  }
}
