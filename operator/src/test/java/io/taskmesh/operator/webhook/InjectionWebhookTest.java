package io.taskmesh.operator.webhook;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import static io.taskmesh.operator.webhook.AdmissionReviews.creating;
import static io.taskmesh.operator.webhook.AdmissionReviews.patched;
import static io.taskmesh.operator.webhook.AdmissionReviews.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.config.MeshConfigWriter;
import io.taskmesh.operator.OperatorSettings;
import io.taskmesh.operator.TestTaskServices;
import io.taskmesh.operator.inject.SidecarIdentity;
import io.taskmesh.operator.inject.SidecarInjection;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook as the API server meets it: over HTTPS, trusting only the caBundle the operator wrote into the
 * MutatingWebhookConfiguration on the mock API server, with namespaces and ConfigMaps read from there too.
 */
@EnableKubernetesMockClient(crud = true)
class InjectionWebhookTest {
  static final String CONFIG_NAME = "taskmesh-sidecar-injector.taskmesh.io";
  static final String ENABLED = "shop";
  static final String PLAIN = "plain";
  static final Map<String, String> OPTED_IN = Map.of("taskmesh.io/app-port", "8080", "taskmesh.io/service", "orders");

  static KubernetesClient client;
  private static InjectionWebhook webhook;
  private static WebhookClient apiServer;
  private static String configHash;

  static WebhookSettings settings(String configName) {
    return new WebhookSettings(true, "127.0.0.1", 0, "taskmesh-system", configName, "localhost", "webhook-cert", true,
        Path.of("unused"));
  }

  @BeforeAll
  static void startWebhook() throws Exception {
    client.resource(new NamespaceBuilder().withNewMetadata().withName(ENABLED)
        .addToLabels("taskmesh.io/injection", "enabled").endMetadata().build()).create();
    client.resource(new NamespaceBuilder().withNewMetadata().withName(PLAIN).endMetadata().build()).create();
    MeshConfig config = MeshConfigParser.parse("service: orders\ninbound: {appPort: 8080}\n");
    configHash = MeshConfigWriter.hash(config);
    for (String namespace : List.of(ENABLED, PLAIN)) {
      client.resource(new ConfigMapBuilder().withNewMetadata().withName("orders-proxy").withNamespace(namespace)
          .addToAnnotations("taskmesh.io/config-hash", configHash).endMetadata()
          .addToData("proxy.yaml", MeshConfigWriter.toYaml(config)).build()).create();
    }
    client.resource(webhookConfiguration(CONFIG_NAME)).create();

    webhook = InjectionWebhook.start(client, TestTaskServices.SETTINGS, settings(CONFIG_NAME), Clock.systemUTC(),
        new WebhookMetrics(new SimpleMeterRegistry()));
    apiServer = new WebhookClient(caBundle(CONFIG_NAME), webhook.port());
  }

  @AfterAll
  static void stopWebhook() {
    webhook.close();
  }

  @Test
  void anOptedInNamespaceGetsTheSidecarOnceAndThePatchedPodIsLeftAlone() throws Exception {
    Pod pod = pod(OPTED_IN);

    AdmissionResponse response = apiServer.review(creating(ENABLED, pod)).getResponse();

    assertThat(response.getAllowed()).isTrue();
    Pod injected = patched(pod, response);
    assertThat(injected.getSpec().getInitContainers()).extracting(Container::getName)
        .containsExactly(SidecarInjection.INIT_CONTAINER_NAME, SidecarInjection.CONTAINER_NAME);
    assertThat(injected.getSpec().getInitContainers().get(0).getEnv())
        .contains(new EnvVar("TASKMESH_INBOUND_PORTS", "8080", null));
    assertThat(injected.getSpec().getInitContainers()).last().satisfies(sidecar -> {
      assertThat(sidecar.getName()).isEqualTo(SidecarInjection.CONTAINER_NAME);
      assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
      assertThat(sidecar.getImage()).isEqualTo(TestTaskServices.SETTINGS.proxyImage());
      assertThat(sidecar.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    });
    assertThat(injected.getSpec().getVolumes()).singleElement()
        .satisfies(volume -> assertThat(volume.getConfigMap().getName()).isEqualTo("orders-proxy"));
    assertThat(injected.getSpec().getImagePullSecrets()).as("the proxy image comes from the operator's registry")
        .extracting(LocalObjectReference::getName).containsExactly("regcred");
    Container app = injected.getSpec().getContainers().get(0);
    assertThat(app.getEnv()).extracting(EnvVar::getName).containsExactly("LOG_LEVEL", "TASKMESH_OUTBOUND");
    assertThat(injected.getMetadata().getAnnotations())
        .containsAllEntriesOf(OPTED_IN)
        .containsEntry("taskmesh.io/injected", "true")
        .containsEntry("taskmesh.io/config-hash", configHash);

    AdmissionResponse again = apiServer.review(creating(ENABLED, injected)).getResponse();

    assertThat(again.getAllowed()).isTrue();
    assertThat(again.getPatch()).as("an injected pod is not injected twice").isNull();
  }

  @Test
  void thePodAnnotationOptsInAnywhereAndTheSidecarStartsBeforeTheAppsInitContainers() throws Exception {
    Pod pod = new PodBuilder(pod(Map.of("taskmesh.io/inject", "true", "taskmesh.io/app-port", "8080",
        "taskmesh.io/service", "orders")))
        .editSpec().addNewInitContainer().withName("migrate").withImage("example/migrate:1").endInitContainer()
          .addNewVolume().withName("cache").withNewEmptyDir().endEmptyDir().endVolume().endSpec()
        .build();

    Pod injected = patched(pod, apiServer.review(creating(PLAIN, pod)).getResponse());

    assertThat(injected.getSpec().getInitContainers()).extracting(Container::getName)
        .containsExactly(SidecarInjection.INIT_CONTAINER_NAME, SidecarInjection.CONTAINER_NAME, "migrate");
    assertThat(injected.getSpec().getVolumes()).extracting(v -> v.getName())
        .containsExactly("cache", SidecarInjection.CONFIG_VOLUME);
    Pod withOwnSecrets = new PodBuilder(pod).editSpec().addNewImagePullSecret("own").addNewImagePullSecret("regcred")
        .endSpec().build();
    assertThat(patched(withOwnSecrets, apiServer.review(creating(PLAIN, withOwnSecrets)).getResponse())
        .getSpec().getImagePullSecrets()).as("a secret the pod names already is not added twice")
        .extracting(LocalObjectReference::getName).containsExactly("own", "regcred");
  }

  @Test
  void proxyResourceAnnotationsOverrideTheDefaultsAndABadOneIsRefusedByName() throws Exception {
    Map<String, String> annotations = new java.util.HashMap<>(OPTED_IN);
    annotations.put("taskmesh.io/proxy-memory-limit", "512Mi");
    annotations.put("taskmesh.io/proxy-cpu-limit", "1");
    Pod pod = pod(annotations);

    Container sidecar = patched(pod, apiServer.review(creating(ENABLED, pod)).getResponse())
        .getSpec().getInitContainers().get(1);

    assertThat(sidecar.getResources().getLimits()).containsEntry("memory", new Quantity("512Mi"))
        .containsEntry("cpu", new Quantity("1"));
    assertThat(sidecar.getResources().getRequests()).as("the rest keep their defaults")
        .containsEntry("memory", new Quantity("128Mi")).containsEntry("cpu", new Quantity("50m"));

    annotations.put("taskmesh.io/proxy-memory-limit", "a lot");
    AdmissionResponse refused = apiServer.review(creating(ENABLED, pod(annotations))).getResponse();
    assertThat(refused.getAllowed()).isFalse();
    assertThat(refused.getStatus().getMessage()).contains("taskmesh.io/proxy-memory-limit: \"a lot\" is not a quantity");
  }

  @Test
  void theLabelTheChartSelectsOnOptsAPodInAnywhereAndFalseStillWins() throws Exception {
    Pod labelled = new PodBuilder(pod(OPTED_IN)).editMetadata().addToLabels("taskmesh.io/inject", "true").endMetadata()
        .build();
    assertThat(patched(labelled, apiServer.review(creating(PLAIN, labelled)).getResponse()).getSpec()
        .getInitContainers()).extracting(Container::getName)
        .containsExactly(SidecarInjection.INIT_CONTAINER_NAME, SidecarInjection.CONTAINER_NAME);

    Pod optedOut = new PodBuilder(pod(OPTED_IN)).editMetadata().addToLabels("taskmesh.io/inject", "false").endMetadata()
        .build();
    assertThat(apiServer.review(creating(ENABLED, optedOut)).getResponse().getPatch()).isNull();
  }

  @Test
  void falseOnThePodWinsOverAnEnabledNamespace() throws Exception {
    AdmissionResponse response = apiServer.review(creating(ENABLED,
        pod(Map.of("taskmesh.io/inject", "false", "taskmesh.io/app-port", "8080", "taskmesh.io/service", "orders"))))
        .getResponse();

    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getPatch()).isNull();
  }

  @Test
  void aPodInANamespaceThatDidNotOptInIsLeftAlone() throws Exception {
    AdmissionResponse response = apiServer.review(creating(PLAIN, pod(OPTED_IN))).getResponse();

    assertThat(response.getAllowed()).isTrue();
    assertThat(response.getPatch()).isNull();
  }

  @Test
  void optingInIsEnoughAPlainClientPodGetsTheSidecarTheCaptureAndADefaultConfig() throws Exception {
    Pod client = new PodBuilder().withNewMetadata().withName("task-cli").endMetadata()
        .withNewSpec().addNewContainer().withName("task-cli").withImage("example/cli:1").endContainer().endSpec().build();

    AdmissionResponse response = apiServer.review(creating(ENABLED, client)).getResponse();

    assertThat(response.getAllowed()).isTrue();
    Pod injected = patched(client, response);
    assertThat(injected.getSpec().getInitContainers()).extracting(Container::getName)
        .containsExactly(SidecarInjection.INIT_CONTAINER_NAME, SidecarInjection.CONTAINER_NAME);
    assertThat(injected.getSpec().getInitContainers().get(0).getEnv())
        .contains(new EnvVar("TASKMESH_INBOUND_PORTS", "", null));
    String yaml = injected.getMetadata().getAnnotations().get(SidecarInjection.PROXY_CONFIG_ANNOTATION);
    MeshConfig config = MeshConfigParser.parse(yaml);
    assertThat(config.service()).isEqualTo("task-cli");
    assertThat(config.namespace()).isEqualTo(ENABLED);
    assertThat(config.outbound().discovery().address()).isEqualTo(TestTaskServices.SETTINGS.discoveryAddress());
    assertThat(injected.getMetadata().getAnnotations()).containsEntry("taskmesh.io/config-hash", MeshConfigWriter.hash(config));
    assertThat(injected.getSpec().getVolumes()).singleElement().satisfies(volume -> assertThat(
        volume.getDownwardAPI().getItems().get(0).getFieldRef().getFieldPath())
        .isEqualTo("metadata.annotations['taskmesh.io/proxy-config']"));
  }

  @Test
  void aNonNumericAppPortIsRefusedNamingTheAnnotationAndTheValue() throws Exception {
    AdmissionResponse response = apiServer.review(creating(ENABLED,
        pod(Map.of("taskmesh.io/app-port", "grpc", "taskmesh.io/service", "orders")))).getResponse();

    assertThat(response.getAllowed()).isFalse();
    assertThat(response.getStatus().getMessage()).contains("taskmesh.io/app-port: \"grpc\" is not a port number");
  }

  @Test
  void anAppPortTheSidecarConfigDoesNotForwardToIsRefused() throws Exception {
    AdmissionResponse response = apiServer.review(creating(ENABLED,
        pod(Map.of("taskmesh.io/app-port", "9090", "taskmesh.io/service", "orders")))).getResponse();

    assertThat(response.getAllowed()).isFalse();
    assertThat(response.getStatus().getMessage())
        .contains("taskmesh.io/app-port: 9090 does not match inbound.appPort 8080 in ConfigMap shop/orders-proxy");
  }

  @Test
  void theServiceAndPortComeFromThePodWhenNoAnnotationNamesThem() throws Exception {
    Pod pod = new PodBuilder().withNewMetadata().withGenerateName("orders-7d9f-").addToLabels("app", "orders").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("example/orders:1")
          .addNewPort().withName("grpc").withContainerPort(8080).endPort().endContainer().endSpec().build();

    Pod injected = patched(pod, apiServer.review(creating(ENABLED, pod)).getResponse());

    assertThat(injected.getSpec().getVolumes()).singleElement()
        .satisfies(volume -> assertThat(volume.getConfigMap().getName()).isEqualTo("orders-proxy"));
    assertThat(injected.getSpec().getInitContainers().get(0).getEnv())
        .contains(new EnvVar("TASKMESH_INBOUND_PORTS", "8080", null));
    assertThat(injected.getMetadata().getAnnotations()).containsEntry("taskmesh.io/config-hash", configHash);
  }

  @Test
  void aContainerPortThatIsNotTheConfigsAppPortIsRefusedNamingBoth() throws Exception {
    Pod pod = new PodBuilder().withNewMetadata().withGenerateName("orders-7d9f-").addToLabels("app", "orders").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("example/orders:1")
          .addNewPort().withContainerPort(9090).endPort().endContainer().endSpec().build();

    AdmissionResponse response = apiServer.review(creating(ENABLED, pod)).getResponse();

    assertThat(response.getAllowed()).isFalse();
    assertThat(response.getStatus().getMessage()).contains("9090 does not match inbound.appPort 8080")
        .contains("taskmesh.io/app-port");
  }

  @Test
  void aMisspelledInjectAnnotationIsRefused() throws Exception {
    AdmissionResponse response = apiServer.review(creating(PLAIN, pod(Map.of("taskmesh.io/inject", "yes"))))
        .getResponse();

    assertThat(response.getAllowed()).isFalse();
    assertThat(response.getStatus().getMessage()).contains("taskmesh.io/inject: \"yes\" must be \"true\" or \"false\"");
  }

  @Test
  void aBodyThatIsNotAnAdmissionReviewGets400WithTheReason() throws Exception {
    HttpResponse<String> notJson = apiServer.post("<pod/>");
    HttpResponse<String> noRequest = apiServer.post("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}");
    HttpResponse<String> notPost = apiServer.get();

    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.body()).contains("not an AdmissionReview");
    assertThat(noRequest.statusCode()).isEqualTo(400);
    assertThat(noRequest.body()).contains("no request");
    assertThat(notPost.statusCode()).isEqualTo(405);
  }

  @Test
  void theCaBundleIsTheCaOfTheSharedSecretAndTheCertificateNamesTheService() {
    Secret secret = client.secrets().inNamespace("taskmesh-system").withName("webhook-cert").get();

    assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(caBundle(CONFIG_NAME)).isEqualTo(secret.getData().get("ca.crt"));
    assertThat(client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(CONFIG_NAME).get()
        .getWebhooks()).hasSize(2).allSatisfy(hook -> assertThat(hook.getClientConfig().getCaBundle())
            .isEqualTo(secret.getData().get("ca.crt")));
    ServingCertificate served = new ServingCertificate(decode(secret.getData().get("ca.crt")),
        decode(secret.getData().get("tls.crt")), decode(secret.getData().get("tls.key")));
    assertThat(served.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=localhost.taskmesh-system.svc");
  }

  @Test
  void aSecondReplicaServesTheSameCertificateSoOneCaBundleTrustsBoth() throws Exception {
    try (InjectionWebhook second = InjectionWebhook.start(client, TestTaskServices.SETTINGS, settings(CONFIG_NAME),
        Clock.systemUTC(), new WebhookMetrics(new SimpleMeterRegistry()))) {
      WebhookClient trustingTheBundle = new WebhookClient(caBundle(CONFIG_NAME), second.port());

      AdmissionResponse response = trustingTheBundle.review(creating(PLAIN, pod(Map.of()))).getResponse();

      assertThat(response.getAllowed()).isTrue();
    }
  }

  static MutatingWebhookConfiguration webhookConfiguration(String name) {
    return WebhookFixture.configuration(name);
  }

  static String caBundle(String configName) {
    return WebhookFixture.caBundle(client, configName);
  }

  @Test
  void withIdentityOnAPodWhoseOwnConfigHasNoIdentitySectionIsRefusedNamingWhatToAdd() throws Exception {
    OperatorSettings off = TestTaskServices.SETTINGS;
    OperatorSettings identityOn = new OperatorSettings(off.proxyImage(), off.proxyInitImage(), off.taskServiceImage(),
        off.discoveryAddress(), off.imagePullSecrets(), SidecarIdentity.fromEnvironment(Map.of(
            "TASKMESH_IDENTITY_ENABLED", "true", "TASKMESH_NAMESPACE", "taskmesh-system")));
    String configName = "identity-on.taskmesh.io";
    client.resource(webhookConfiguration(configName)).create();
    try (InjectionWebhook withIdentity = InjectionWebhook.start(client, identityOn, settings(configName),
        Clock.systemUTC(), new WebhookMetrics(new SimpleMeterRegistry()))) {
      WebhookClient identityApiServer = new WebhookClient(caBundle(configName), withIdentity.port());

      AdmissionResponse refused = identityApiServer.review(creating(ENABLED, pod(OPTED_IN))).getResponse();
      assertThat(refused.getAllowed()).as("orders-proxy has no identity section").isFalse();
      assertThat(refused.getStatus().getMessage())
          .contains("ConfigMap shop/orders-proxy proxy.yaml has no identity section")
          .contains("add identity: {mode: permissive, trustDomain: cluster.local, issuer: \"taskmesh-operator.taskmesh-system.svc:15012\"}");

      Pod billing = pod(Map.of("taskmesh.io/app-port", "8080", "taskmesh.io/service", "billing"));
      AdmissionResponse defaults = identityApiServer.review(creating(ENABLED, billing)).getResponse();
      assertThat(defaults.getAllowed()).as("a pod without a ConfigMap of its own gets the defaults, identity included")
          .isTrue();
      assertThat(MeshConfigParser.parse(patched(billing, defaults).getMetadata().getAnnotations()
          .get(SidecarInjection.PROXY_CONFIG_ANNOTATION)).identity().enabled()).isTrue();
    }
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.US_ASCII);
  }
}
