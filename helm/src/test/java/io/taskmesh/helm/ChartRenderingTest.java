package io.taskmesh.helm;

import static io.taskmesh.helm.ChartFixture.only;
import static io.taskmesh.helm.ChartFixture.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        Arguments.of("gateway with TLS", Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls")),
        Arguments.of("gateway with client certificates", Map.of("gateway.enabled", true, "gateway.tls.secretName",
            "edge-tls", "gateway.tls.clientCA.configMapName", "partners-ca")),
        Arguments.of("gateway with certificates by server name", Map.of("gateway.enabled", true,
            "gateway.tls.secretName", "edge-tls", "gateway.tls.certificates[0].secretName", "api-tls",
            "gateway.tls.certificates[0].serverNames[0]", "api.example.com")),
        Arguments.of("gateway tracing", Map.of("gateway.enabled", true, "gateway.tracing.exporter", "otlp",
            "gateway.tracing.endpoint", "http://otel-collector.observability:4318")),
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
    assertThat(operator.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(ChartFixture.RELEASE + "-operator");
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
  void theGatewayCallsTheMeshWithItsOwnIdentityMountedAsAnInjectedSidecarsIs() {
    List<HasMetadata> objects = render(Map.of("gateway.enabled", true));
    io.taskmesh.config.MeshConfig parsed = io.taskmesh.config.MeshConfigParser.parse(
        only(objects, io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml"));
    assertThat(parsed.identity().mode()).isEqualTo(io.taskmesh.config.IdentityMode.PERMISSIVE);
    assertThat(parsed.identity().trustDomain()).isEqualTo("cluster.local");
    assertThat(parsed.identity().issuerAddress()).isEqualTo("taskmesh-operator.taskmesh-system.svc:15012");
    assertThat(parsed.identity().tokenPath()).isEqualTo(io.taskmesh.config.IdentityConfig.DEFAULT_TOKEN_PATH);
    assertThat(parsed.identity().trustBundlePath()).isEqualTo(io.taskmesh.config.IdentityConfig.DEFAULT_TRUST_BUNDLE_PATH);

    io.fabric8.kubernetes.api.model.PodSpec pod = gateway(objects).getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("taskmesh-gateway");
    assertThat(objects).filteredOn(ServiceAccount.class::isInstance)
        .anyMatch(account -> account.getMetadata().getName().equals("taskmesh-gateway"));
    assertThat(pod.getVolumes()).containsAll(io.taskmesh.operator.inject.SidecarInjection.identityVolumes());
    Container proxy = pod.getContainers().get(0);
    assertThat(io.taskmesh.operator.inject.SidecarInjection.withIdentityMounts(proxy).getVolumeMounts())
        .as("the operator's own mounts add nothing: the chart has them").isEqualTo(proxy.getVolumeMounts());

    List<HasMetadata> withoutIdentity = render(Map.of("gateway.enabled", true, "identity.enabled", false));
    assertThat(io.taskmesh.config.MeshConfigParser.parse(only(withoutIdentity, io.fabric8.kubernetes.api.model.ConfigMap.class)
        .getData().get("proxy.yaml")).identity().enabled()).isFalse();
    assertThat(gateway(withoutIdentity).getSpec().getTemplate().getSpec().getVolumes())
        .noneMatch(volume -> volume.getName().startsWith("taskmesh-t"));
  }

  @Test
  void gatewayCertificatesByServerNameAreMountedAndNamedInTheConfig() {
    List<HasMetadata> objects = render(Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls",
        "gateway.tls.certificates[0].secretName", "api-tls", "gateway.tls.certificates[0].serverNames[0]", "api.example.com",
        "gateway.tls.certificates[1].secretName", "shops-tls",
        "gateway.tls.certificates[1].serverNames[0]", "*.shops.example.org"));
    List<io.taskmesh.config.GatewayTlsConfig.ServerCertificate> certificates = io.taskmesh.config.MeshConfigParser.parse(
        only(objects, io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml")).gateway().tls()
        .certificates();
    assertThat(certificates).extracting(io.taskmesh.config.GatewayTlsConfig.ServerCertificate::serverNames)
        .containsExactly(List.of("api.example.com"), List.of("*.shops.example.org"));
    io.fabric8.kubernetes.api.model.PodSpec pod = gateway(objects).getSpec().getTemplate().getSpec();
    for (int i = 0; i < 2; i++) {
      String volume = "gateway-tls-" + i;
      assertThat(pod.getVolumes().stream().filter(v -> v.getName().equals(volume)).findFirst().orElseThrow()
          .getSecret().getSecretName()).isEqualTo(List.of("api-tls", "shops-tls").get(i));
      String mountPath = pod.getContainers().get(0).getVolumeMounts().stream()
          .filter(mount -> mount.getName().equals(volume)).findFirst().orElseThrow().getMountPath();
      assertThat(certificates.get(i).certFile()).isEqualTo(mountPath + "/tls.crt");
      assertThat(certificates.get(i).keyFile()).isEqualTo(mountPath + "/tls.key");
    }

    assertThatThrownBy(() -> render(Map.of("gateway.enabled", true, "gateway.tls.certificates[0].secretName", "api-tls",
        "gateway.tls.certificates[0].serverNames[0]", "api.example.com")))
        .hasMessageContaining("gateway.tls.certificates needs gateway.tls.secretName");
    assertThatThrownBy(() -> render(Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls",
        "gateway.tls.certificates[0].secretName", "api-tls")))
        .hasMessageContaining("gateway.tls.certificates[0] needs secretName and serverNames");
  }

  @Test
  void aGatewayClientCaIsMountedAndNamedInTheConfigWithItsMode() {
    List<HasMetadata> withoutClientCa = render(Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls"));
    assertThat(io.taskmesh.config.MeshConfigParser.parse(only(withoutClientCa,
        io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml")).gateway().tls().clientAuth()).isNull();

    List<HasMetadata> objects = render(Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls",
        "gateway.tls.clientCA.secretName", "partners-ca", "gateway.tls.clientCA.key", "bundle.pem",
        "gateway.tls.clientCA.mode", "optional"));
    io.taskmesh.config.GatewayTlsConfig.ClientAuth clientAuth = io.taskmesh.config.MeshConfigParser.parse(
        only(objects, io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml")).gateway().tls()
        .clientAuth();
    assertThat(clientAuth.mode()).isEqualTo(io.taskmesh.config.GatewayTlsConfig.ClientAuthMode.OPTIONAL);
    io.fabric8.kubernetes.api.model.PodSpec pod = gateway(objects).getSpec().getTemplate().getSpec();
    io.fabric8.kubernetes.api.model.Volume ca = pod.getVolumes().stream()
        .filter(volume -> volume.getName().equals("gateway-client-ca")).findFirst().orElseThrow();
    assertThat(ca.getSecret().getSecretName()).isEqualTo("partners-ca");
    assertThat(ca.getSecret().getItems()).singleElement().satisfies(item -> {
      assertThat(item.getKey()).isEqualTo("bundle.pem");
      assertThat(item.getPath()).isEqualTo("ca.crt");
    });
    String mountPath = pod.getContainers().get(0).getVolumeMounts().stream()
        .filter(mount -> mount.getName().equals(ca.getName())).findFirst().orElseThrow().getMountPath();
    assertThat(clientAuth.caFile()).isEqualTo(mountPath + "/ca.crt");

    assertThatThrownBy(() -> render(Map.of("gateway.enabled", true, "gateway.tls.clientCA.configMapName", "partners-ca")))
        .hasMessageContaining("gateway.tls.clientCA needs gateway.tls.secretName");
    assertThatThrownBy(() -> render(Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls",
        "gateway.tls.clientCA.configMapName", "partners-ca", "gateway.tls.clientCA.mode", "sometimes")))
        .hasMessageContaining("gateway.tls.clientCA.mode must be require or optional");
  }

  @Test
  void aGatewayTlsSecretIsMountedNamedInTheConfigAndServedAsHttps() {
    List<HasMetadata> plaintext = render(Map.of("gateway.enabled", true));
    assertThat(io.taskmesh.config.MeshConfigParser.parse(only(plaintext, io.fabric8.kubernetes.api.model.ConfigMap.class)
        .getData().get("proxy.yaml")).gateway().tls()).isNull();

    List<HasMetadata> objects = render(Map.of("gateway.enabled", true, "gateway.tls.secretName", "edge-tls",
        "gateway.service.port", 443));
    io.taskmesh.config.GatewayTlsConfig tls = io.taskmesh.config.MeshConfigParser.parse(
        only(objects, io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml")).gateway().tls();
    io.fabric8.kubernetes.api.model.PodSpec pod = gateway(objects).getSpec().getTemplate().getSpec();
    io.fabric8.kubernetes.api.model.Volume secret = pod.getVolumes().stream()
        .filter(volume -> volume.getSecret() != null).findFirst().orElseThrow();
    assertThat(secret.getSecret().getSecretName()).isEqualTo("edge-tls");
    String mountPath = pod.getContainers().get(0).getVolumeMounts().stream()
        .filter(mount -> mount.getName().equals(secret.getName())).findFirst().orElseThrow().getMountPath();
    assertThat(tls.certFile()).isEqualTo(mountPath + "/tls.crt");
    assertThat(tls.keyFile()).isEqualTo(mountPath + "/tls.key");
    Service service = objects.stream().filter(Service.class::isInstance).map(Service.class::cast)
        .filter(s -> s.getMetadata().getName().endsWith("-gateway")).findFirst().orElseThrow();
    assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
      assertThat(port.getPort()).isEqualTo(443);
      assertThat(port.getName()).isEqualTo("https");
      assertThat(port.getAppProtocol()).isEqualTo("https");
    });
  }

  @Test
  void theGatewayTracesOnlyWhenGivenAnExporterAndSendsItsSpansWhereTheValueSays() {
    assertThat(gatewayConfig(Map.of("gateway.enabled", true)).tracing().enabled()).isFalse();

    io.taskmesh.config.TracingConfig zipkin = gatewayConfig(Map.of("gateway.enabled", true,
        "gateway.tracing.exporter", "zipkin", "gateway.tracing.endpoint", "http://zipkin.default:9411",
        "gateway.tracing.samplingRatio", "0.25")).tracing();
    assertThat(zipkin.exporter()).isEqualTo("zipkin");
    assertThat(zipkin.endpoint()).isEqualTo("http://zipkin.default:9411");
    assertThat(zipkin.samplingRatio()).isEqualTo(0.25);

    io.taskmesh.config.TracingConfig otlpDefaults = gatewayConfig(Map.of("gateway.enabled", true,
        "gateway.tracing.exporter", "otlp")).tracing();
    assertThat(otlpDefaults.endpoint()).isEqualTo("http://localhost:4318");
    assertThat(otlpDefaults.samplingRatio()).isEqualTo(1.0);

    Map<String, Object> before = Map.of("gateway.enabled", true);
    Map<String, Object> traced = Map.of("gateway.enabled", true, "gateway.tracing.exporter", "otlp");
    assertThat(gateway(render(traced)).getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/config"))
        .as("a new tracing value rolls the gateway's pods")
        .isNotEqualTo(gateway(render(before)).getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/config"));
  }

  @Test
  void aGatewayTracingValueOutsideItsRangeIsRefusedByName() {
    assertThatThrownBy(() -> render(Map.of("gateway.enabled", true, "gateway.tracing.exporter", "jaeger")))
        .hasMessageContaining("gateway.tracing.exporter");
    assertThatThrownBy(() -> render(Map.of("gateway.enabled", true, "gateway.tracing.exporter", "zipkin",
        "gateway.tracing.samplingRatio", "1.5")))
        .hasMessageContaining("gateway.tracing.samplingRatio");
  }

  private static io.taskmesh.config.MeshConfig gatewayConfig(Map<String, Object> values) {
    return io.taskmesh.config.MeshConfigParser.parse(
        only(render(values), io.fabric8.kubernetes.api.model.ConfigMap.class).getData().get("proxy.yaml"));
  }

  private static Deployment gateway(List<HasMetadata> objects) {
    return objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
        .filter(d -> d.getMetadata().getName().endsWith("-gateway")).findFirst().orElseThrow();
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
