package io.taskmesh.helm;

import static io.taskmesh.helm.ChartFixture.only;
import static io.taskmesh.helm.ChartFixture.render;
import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ChartRenderingTest {

  @Test
  void lintIsCleanEvenInStrictMode() {
    LintResult result = ChartFixture.helm().lint().strict().call();

    assertThat(result.isFailed()).as("helm lint: %s", result.getMessages()).isFalse();
    assertThat(result.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
  }

  static Stream<Arguments> documentedToggles() {
    return Stream.of(
        Arguments.of("defaults", Map.of()),
        Arguments.of("webhook off", Map.of("webhook.enabled", false)),
        Arguments.of("own certificate", Map.of("webhook.certificateSecret", "injector-tls")),
        Arguments.of("own certificate without election (no Role)",
            Map.of("webhook.certificateSecret", "injector-tls", "operator.leaderElection.enabled", false)),
        Arguments.of("fail open", Map.of("webhook.failurePolicy", "Ignore")),
        Arguments.of("network policy", Map.of("networkPolicy.enabled", true, "networkPolicy.apiServerCIDRs[0]", "10.0.0.1/32")),
        Arguments.of("disruption budget", Map.of("operator.replicas", 2, "operator.podDisruptionBudget.enabled", true)),
        Arguments.of("service monitor", Map.of("metrics.serviceMonitor.enabled", true)),
        Arguments.of("no scrape annotations", Map.of("metrics.scrapeAnnotations", false)),
        Arguments.of("two replicas without election", Map.of("operator.replicas", 2, "operator.leaderElection.enabled", false)),
        Arguments.of("watched namespaces", Map.of("operator.watchNamespaces[0]", "team-a", "operator.watchNamespaces[1]", "team-b")),
        Arguments.of("gateway on", Map.of("gateway.enabled", true)),
        Arguments.of("gateway exposed", Map.of("gateway.enabled", true, "gateway.service.type", "LoadBalancer",
            "gateway.replicas", 2)),
        Arguments.of("private registry", Map.of("images.registry", "registry.example.com/", "images.operator.tag", "1.2.3")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("documentedToggles")
  void everyDocumentedToggleRendersObjectsThatParseIntoTheirKind(String name, Map<String, Object> values) {
    List<HasMetadata> objects = render(values);

    assertThat(objects).isNotEmpty();
    assertThat(objects).allSatisfy(object -> {
      assertThat(object.getMetadata().getName()).isNotBlank();
      if (object.getApiVersion().startsWith("monitoring.coreos.com/")) {
        // the Prometheus Operator's kinds are not in the fabric8 core model
        assertThat(((GenericKubernetesResource) object).getAdditionalProperties()).containsKey("spec");
      } else {
        assertThat(object).as("%s %s: kind unknown to the fabric8 model", object.getKind(), object.getMetadata().getName())
            .isNotInstanceOf(GenericKubernetesResource.class);
      }
    });
    Deployment operator = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .filter(d -> d.getMetadata().getName().equals(ChartFixture.RELEASE + "-operator")).findFirst().orElseThrow();
    assertThat(operator.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo(ChartFixture.RELEASE + "-operator");
    assertThat(objects).filteredOn(ServiceAccount.class::isInstance)
        .anyMatch(account -> account.getMetadata().getName().equals(ChartFixture.RELEASE + "-operator"));
  }

  @Test
  void theGatewayIsOffByDefaultAndWhenOnRunsTheProxyWithAConfigTheProxyAccepts() {
    assertThat(render(Map.of())).noneMatch(object -> object.getMetadata().getName().endsWith("-gateway"));

    List<HasMetadata> objects = render(Map.of("gateway.enabled", true));
    io.fabric8.kubernetes.api.model.ConfigMap config = only(objects, io.fabric8.kubernetes.api.model.ConfigMap.class);
    io.taskmesh.config.MeshConfig parsed = io.taskmesh.config.MeshConfigParser.parse(config.getData().get("proxy.yaml"));
    assertThat(parsed.isGateway()).isTrue();
    assertThat(parsed.gateway().routes()).singleElement().satisfies(route -> {
      assertThat(route.pathPrefix()).isEqualTo("/api/tasks");
      assertThat(route.service()).isEqualTo("task-service.default");
      assertThat(route.transcode()).isTrue();
    });
    assertThat(parsed.outbound().discovery().address()).isEqualTo("taskmesh-operator.taskmesh-system.svc:15010");
    Deployment gateway = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .filter(d -> d.getMetadata().getName().endsWith("-gateway")).findFirst().orElseThrow();
    Container proxy = gateway.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(proxy.getImage()).contains("taskmesh/taskmesh-proxy");
    assertThat(proxy.getArgs()).containsSequence("--mode", "gateway");
    assertThat(proxy.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(proxy.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
  }

  @Test
  void withIdentityOnTheGatewayHasAServiceAccountOfItsOwnItsTokenTheTrustBundleAndAnIdentitySection() {
    List<HasMetadata> objects = render(Map.of("gateway.enabled", true));
    String name = ChartFixture.RELEASE + "-gateway";
    assertThat(objects).filteredOn(ServiceAccount.class::isInstance)
        .anyMatch(account -> account.getMetadata().getName().equals(name));
    io.taskmesh.config.MeshConfig parsed = io.taskmesh.config.MeshConfigParser.parse(
        only(objects, io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml"));
    // discovery answers only peers with a workload certificate while identity is on
    assertThat(parsed.identity().mode()).isEqualTo(io.taskmesh.config.IdentityMode.PERMISSIVE);
    assertThat(parsed.identity().issuerAddress()).isEqualTo("taskmesh-operator.taskmesh-system.svc:15012");
    Deployment gateway = objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .filter(d -> d.getMetadata().getName().equals(name)).findFirst().orElseThrow();
    var pod = gateway.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo(name);
    assertThat(pod.getVolumes()).anyMatch(volume -> volume.getProjected() != null
        && "taskmesh".equals(volume.getProjected().getSources().get(0).getServiceAccountToken().getAudience()));
    assertThat(pod.getVolumes()).anyMatch(volume -> volume.getConfigMap() != null
        && volume.getConfigMap().getName().equals("taskmesh-trust-bundle"));
    assertThat(pod.getContainers().get(0).getVolumeMounts()).extracting(mount -> mount.getMountPath())
        .contains("/var/run/secrets/taskmesh.io/token", "/var/run/secrets/taskmesh.io/trust");

    List<HasMetadata> plaintext = render(Map.of("gateway.enabled", true, "identity.enabled", false));
    assertThat(io.taskmesh.config.MeshConfigParser.parse(only(plaintext, io.fabric8.kubernetes.api.model.ConfigMap.class)
        .getData().get("proxy.yaml")).identity().mode()).isEqualTo(io.taskmesh.config.IdentityMode.OFF);
  }

  @Test
  void theOperatorRunsNonRootWithAReadOnlyRootAndProbes() {
    Deployment deployment = only(render(Map.of()), Deployment.class);
    Container operator = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(operator.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(operator.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(operator.getStartupProbe()).isNotNull();
    assertThat(operator.getLivenessProbe()).isNotNull();
    assertThat(operator.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(operator.getResources().getLimits()).containsKey("memory");
  }

  @Test
  void imagesDefaultToTheChartVersionAndFollowTheRegistrySetting() {
    Container defaults = only(render(Map.of()), Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
    Container custom = only(render(Map.of("images.registry", "registry.example.com/")), Deployment.class)
        .getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(defaults.getImage()).isEqualTo("taskmesh/operator:0.1.0-SNAPSHOT");
    assertThat(env(defaults, "TASKMESH_PROXY_IMAGE")).isEqualTo("taskmesh/taskmesh-proxy:0.1.0-SNAPSHOT");
    assertThat(env(defaults, "TASKMESH_TASK_SERVICE_IMAGE")).isEqualTo("taskmesh/task-service:0.1.0-SNAPSHOT");
    assertThat(custom.getImage()).isEqualTo("registry.example.com/taskmesh/operator:0.1.0-SNAPSHOT");
  }

  @Test
  void theWebhookPointsAtTheOperatorServiceAndTheOperatorKnowsItsName() {
    List<HasMetadata> objects = render(Map.of());
    MutatingWebhookConfiguration webhook = only(objects, MutatingWebhookConfiguration.class);
    Service service = only(objects, Service.class);
    Container operator = only(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(webhook.getWebhooks()).allSatisfy(hook -> {
      assertThat(hook.getClientConfig().getService().getName()).isEqualTo(service.getMetadata().getName());
      assertThat(hook.getSideEffects()).isEqualTo("None");
    });
    assertThat(service.getSpec().getPorts()).anySatisfy(port -> assertThat(port.getPort()).isEqualTo(443));
    assertThat(env(operator, "TASKMESH_WEBHOOK_CONFIG_NAME")).isEqualTo(webhook.getMetadata().getName());
    assertThat(env(operator, "TASKMESH_DISCOVERY_ADDRESS")).isEqualTo("taskmesh-operator.taskmesh-system.svc:15010");
  }

  @Test
  void turningTheWebhookOffRemovesItAndItsPermissions() {
    // the issuer (identity) keeps its own trust anchor Secret in the Role
    List<HasMetadata> objects = render(Map.of("webhook.enabled", false, "identity.enabled", false));

    assertThat(objects).noneMatch(MutatingWebhookConfiguration.class::isInstance);
    assertThat(only(objects, ClusterRole.class).getRules())
        .noneMatch(rule -> rule.getResources().contains("mutatingwebhookconfigurations"));
    assertThat(only(objects, Role.class).getRules()).noneMatch(rule -> rule.getResources().contains("secrets"));
  }

  @Test
  void anOwnCertificateIsMountedWhereTheOperatorReadsIt() {
    List<HasMetadata> objects = render(Map.of("webhook.certificateSecret", "injector-tls", "identity.enabled", false));
    var pod = only(objects, Deployment.class).getSpec().getTemplate().getSpec();
    Container operator = pod.getContainers().get(0);

    String dir = env(operator, "TASKMESH_WEBHOOK_CERT_DIR");
    assertThat(env(operator, "TASKMESH_WEBHOOK_CERT_MANAGED")).isEqualTo("false");
    assertThat(operator.getVolumeMounts()).anySatisfy(mount -> {
      assertThat(mount.getMountPath()).isEqualTo(dir);
      assertThat(pod.getVolumes()).anySatisfy(volume -> {
        assertThat(volume.getName()).isEqualTo(mount.getName());
        assertThat(volume.getSecret().getSecretName()).isEqualTo("injector-tls");
      });
    });
    assertThat(only(objects, Role.class).getRules()).noneMatch(rule -> rule.getResources().contains("secrets"));
  }

  @Test
  void identityIsOnByDefaultWithTheIssuerExposedAndItsTrustAnchorSecret() {
    List<HasMetadata> objects = render(Map.of("webhook.certificateSecret", "injector-tls"));
    Container operator = only(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(env(operator, "TASKMESH_IDENTITY_ENABLED")).isEqualTo("true");
    assertThat(env(operator, "TASKMESH_MTLS_MODE")).isEqualTo("permissive");
    assertThat(env(operator, "TASKMESH_TRUST_ANCHOR_SECRET")).isEqualTo("taskmesh-operator-trust-anchor");
    assertThat(env(operator, "TASKMESH_ISSUER_SERVICE_NAME"))
        .isEqualTo(only(objects, io.fabric8.kubernetes.api.model.Service.class).getMetadata().getName());
    assertThat(operator.getPorts()).anySatisfy(port -> assertThat(port.getContainerPort()).isEqualTo(15012));
    assertThat(only(objects, io.fabric8.kubernetes.api.model.Service.class).getSpec().getPorts())
        .anySatisfy(port -> assertThat(port.getPort()).isEqualTo(15012));
    assertThat(only(objects, Role.class).getRules()).anySatisfy(rule -> {
      assertThat(rule.getResources()).containsExactly("secrets");
      assertThat(rule.getVerbs()).containsExactly("get", "create");
    });
    assertThat(only(objects, ClusterRole.class).getRules())
        .anySatisfy(rule -> assertThat(rule.getResources()).containsExactly("tokenreviews"));
  }

  @Test
  void aManagedCertificateIsKeptInASecretTheOperatorMayWrite() {
    List<HasMetadata> objects = render(Map.of());
    Container operator = only(objects, Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(env(operator, "TASKMESH_WEBHOOK_CERT_MANAGED")).isEqualTo("true");
    assertThat(env(operator, "TASKMESH_WEBHOOK_CERT_SECRET")).isEqualTo("taskmesh-operator-webhook-cert");
    assertThat(env(operator, "TASKMESH_WEBHOOK_SERVICE_NAME")).isEqualTo(only(objects, Service.class).getMetadata().getName());
    assertThat(only(objects, Role.class).getRules()).anySatisfy(rule -> assertThat(rule.getResources()).contains("secrets"));
  }

  private static String env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name));
  }
}
