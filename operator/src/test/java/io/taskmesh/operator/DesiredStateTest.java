package io.taskmesh.operator;

import static io.taskmesh.operator.TestTaskServices.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.taskmesh.config.ConfigException;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.operator.api.AppEnvVar;
import io.taskmesh.operator.api.DatabaseSpec;
import io.taskmesh.operator.api.MeshSpec;
import io.taskmesh.operator.api.SidecarSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.dependent.ConfigMapDependent;
import io.taskmesh.operator.dependent.DataVolumeClaimDependent;
import io.taskmesh.operator.dependent.DeploymentDependent;
import io.taskmesh.operator.dependent.ProxyImage;
import io.taskmesh.operator.dependent.ServiceDependent;
import io.taskmesh.operator.inject.SidecarInjection;
import io.taskmesh.operator.inject.SidecarIdentity;
import io.taskmesh.operator.reconciler.ProxyConfigRenderer;
import io.taskmesh.operator.reconciler.SpecProblems;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
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
    assertThat(sidecar.getStartupProbe().getHttpGet().getPath()).as("the app starts only after it: no wait for the app")
        .isEqualTo("/healthz");
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
    assertThat(pod.getImagePullSecrets()).extracting(LocalObjectReference::getName).containsExactly("regcred");
  }

  @Test
  void theTaskServicesPullSecretsComeFirstAndTheOperatorsAreAdded() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().imagePullSecrets = java.util.List.of(new LocalObjectReference("team-registry"),
        new LocalObjectReference("regcred"));

    assertThat(DeploymentDependent.build(service, SETTINGS).getSpec().getTemplate().getSpec().getImagePullSecrets())
        .extracting(LocalObjectReference::getName).containsExactly("team-registry", "regcred");
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
  void aServicesOwnMtlsModeOverridesTheMeshWideOneInItsProxyConfig() {
    OperatorSettings permissiveMesh = new OperatorSettings(SETTINGS.proxyImage(), SETTINGS.proxyInitImage(),
        SETTINGS.taskServiceImage(), SETTINGS.discoveryAddress(), SETTINGS.imagePullSecrets(),
        new SidecarIdentity(IdentityMode.PERMISSIVE, "cluster.local", "taskmesh-operator.taskmesh-system.svc:15012"));
    TaskService strict = TestTaskServices.withTimeout("shop", "tasks", "2s");
    strict.getSpec().mesh.mtls = MeshSpec.Mtls.strict;

    assertThat(ProxyConfigRenderer.render(strict, permissiveMesh).identity().mode()).isEqualTo(IdentityMode.STRICT);
    assertThat(ProxyConfigRenderer.render(TestTaskServices.withTimeout("shop", "tasks", "2s"), permissiveMesh)
        .identity().mode()).isEqualTo(IdentityMode.PERMISSIVE);
    assertThatThrownBy(() -> ProxyConfigRenderer.render(strict, SETTINGS))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("spec.mesh.mtls"))
        .hasMessageContaining("without identity");
  }

  @Test
  void meshValuesTheSidecarWouldRefuseAreNamedByTheirCrPath() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().mesh.tracing = new MeshSpec.Tracing();
    service.getSpec().mesh.tracing.propagators = java.util.List.of("tracecontext", "jaeger");

    assertThatThrownBy(() -> ProxyConfigRenderer.render(service, SETTINGS))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.key()).isEqualTo("spec.mesh.tracing.propagators"))
        .hasMessageContaining("'jaeger' is not one of");
    assertThat(SpecProblems.find(service, SETTINGS)).hasValueSatisfying(
        problem -> assertThat(problem.reason()).isEqualTo("InvalidMeshConfig"));
  }

  @Test
  void theEmbeddedStoreLivesOnTheOperatorsClaimAndRollsOutByRecreate() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    Deployment deployment = DeploymentDependent.build(service, SETTINGS);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();

    assertThat(deployment.getSpec().getStrategy().getType())
        .as("the old pod stops before the new one opens the store").isEqualTo("Recreate");
    assertThat(deployment.getSpec().getStrategy().getRollingUpdate()).isNull();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("data")).singleElement()
        .satisfies(v -> assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("tasks-data"));
    assertThat(pod.getContainers().get(0).getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/data"));
    assertThat(env(pod.getContainers().get(0), "TASK_SERVICE_DATABASE_URL")).isEqualTo("jdbc:h2:file:/data/tasks");

    PersistentVolumeClaim claim = DataVolumeClaimDependent.build(service);
    assertThat(claim.getMetadata().getName()).isEqualTo("tasks-data");
    assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(claim.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("1Gi");
  }

  @Test
  void thePostgresStoreRollsOutOneSurgePodAtATimeWithoutAClaim() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().replicas = 3;
    service.getSpec().database = new DatabaseSpec();
    service.getSpec().database.postgresUrlSecret = new SecretKeySelector("url", "tasks-db", false);
    Deployment deployment = DeploymentDependent.build(service, SETTINGS);

    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
    assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal()).isEqualTo(1);
    assertThat(deployment.getSpec().getTemplate().getSpec().getVolumes())
        .noneSatisfy(v -> assertThat(v.getPersistentVolumeClaim()).isNotNull());
  }

  @Test
  void runningPodsKeepTheirProxyImageWhenTheOperatorShipsANewOne() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    Deployment running = DeploymentDependent.build(service, SETTINGS);
    OperatorSettings upgraded = new OperatorSettings("taskmesh/taskmesh-proxy:next", SETTINGS.proxyInitImage(), "taskmesh/task-service:next",
        SETTINGS.discoveryAddress(), SETTINGS.imagePullSecrets());

    Deployment kept = DeploymentDependent.build(service, upgraded, Optional.of(running));
    assertThat(kept.getSpec().getTemplate()).as("an operator upgrade alone rolls nothing")
        .isEqualTo(running.getSpec().getTemplate());
    assertThat(proxyImage(DeploymentDependent.build(service, upgraded))).as("a new TaskService starts on it")
        .isEqualTo("taskmesh/taskmesh-proxy:next");
    assertThat(DeploymentDependent.build(service, upgraded).getSpec().getTemplate().getSpec().getContainers().get(0)
        .getImage()).isEqualTo("taskmesh/task-service:next");

    service.getSpec().sidecar = new SidecarSpec();
    service.getSpec().sidecar.upgradePolicy = SidecarSpec.UpgradePolicy.Automatic;
    assertThat(proxyImage(DeploymentDependent.build(service, upgraded, Optional.of(running))))
        .isEqualTo("taskmesh/taskmesh-proxy:next");
    service.getSpec().sidecar.image = "registry.example.com/proxy:pinned";
    assertThat(proxyImage(DeploymentDependent.build(service, upgraded, Optional.of(running))))
        .isEqualTo("registry.example.com/proxy:pinned");
  }

  @Test
  void theSidecarGetsTheSpecsResourcesOrDefaultsAboveItsMeasuredFootprint() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    Container sidecar = DeploymentDependent.build(service, SETTINGS).getSpec().getTemplate().getSpec()
        .getInitContainers().get(1);
    // the proxy's peak RSS with mTLS was measured at ~142 MB under load: the limit must be at least 1.5x that
    assertThat(Quantity.getAmountInBytes(sidecar.getResources().getLimits().get("memory")).longValue())
        .isGreaterThanOrEqualTo(213L * 1000 * 1000);
    assertThat(sidecar.getResources().getRequests().get("memory").toString()).isEqualTo("128Mi");
    assertThat(env(sidecar, "JAVA_TOOL_OPTIONS")).contains("-Xmx48m", "-XX:CICompilerCount=2", "-XX:ActiveProcessorCount=2")
        .doesNotContain("MaxRAMPercentage", "TieredStopAtLevel");

    service.getSpec().sidecar = new SidecarSpec();
    service.getSpec().sidecar.resources = new ResourceRequirementsBuilder()
        .addToLimits("memory", new Quantity("512Mi")).build();
    Deployment running = DeploymentDependent.build(TestTaskServices.withTimeout("shop", "tasks", "2s"), SETTINGS);
    assertThat(DeploymentDependent.build(service, SETTINGS, Optional.of(running)).getSpec().getTemplate().getSpec()
        .getInitContainers().get(1).getResources().getLimits()).as("also while the proxy image is kept")
        .containsEntry("memory", new Quantity("512Mi"));
  }

  @Test
  void theAppsEnvIsAddedAfterTheOperatorsAndReservedNamesAreAProblem() {
    TaskService service = TestTaskServices.withTimeout("shop", "tasks", "2s");
    service.getSpec().env = java.util.List.of(new AppEnvVar("LOG_LEVEL", "debug"));
    Container app = DeploymentDependent.build(service, SETTINGS).getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(env(app, "LOG_LEVEL")).isEqualTo("debug");
    assertThat(SpecProblems.find(service, SETTINGS)).isEmpty();

    // the CRD refuses these; a TaskService stored before the rule existed is refused by the operator
    service.getSpec().env = java.util.List.of(new AppEnvVar("TASKMESH_OUTBOUND", "10.0.0.1:80"));
    assertThat(SpecProblems.find(service, SETTINGS)).hasValueSatisfying(problem -> {
      assertThat(problem.reason()).isEqualTo("ReservedEnv");
      assertThat(problem.message()).contains("TASKMESH_OUTBOUND");
    });
    AppEnvVar secret = new AppEnvVar("TOKEN", null);
    secret.valueFrom = new AppEnvVar.Source();
    secret.valueFrom.secretKeyRef = new SecretKeySelector("token", "someone-elses", false);
    service.getSpec().env = java.util.List.of(secret);
    assertThat(SpecProblems.find(service, SETTINGS)).hasValueSatisfying(
        problem -> assertThat(problem.reason()).isEqualTo("SecretInEnv"));
  }

  private static String proxyImage(Deployment deployment) {
    return ProxyImage.running(Optional.of(deployment)).orElseThrow();
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name + " in " + Map.of("container", container.getName())));
  }
}
