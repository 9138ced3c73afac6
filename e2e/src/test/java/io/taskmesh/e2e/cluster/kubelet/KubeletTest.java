package io.taskmesh.e2e.cluster.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.taskmesh.e2e.cluster.ClusterAccess;
import io.taskmesh.e2e.local.Classpath;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubelet on a plain fabric8 mock API server (CRUD mode, no controllers): pods run as processes in
 * their own network namespaces, and everything a test checks it sees through real traffic, files and
 * /proc. Needs root; skipped otherwise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubeletTest {
  static final String ECHO_IMAGE = "registry.test/taskmesh-test/echo:1";
  private static final Duration START_BOUND = Duration.ofSeconds(120);

  @TempDir
  static Path workDir;

  private KubernetesMockServer server;
  private KubernetesClient api;
  private PodNetwork network;
  private Kubelet kubelet;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @BeforeAll
  void startNode() {
    Assumptions.assumeTrue(PodNetwork.unavailableReason().isEmpty(),
        () -> "skipped: " + PodNetwork.unavailableReason().orElseThrow());
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(),
        false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    api = server.createClient();
    network = PodNetwork.create("kubelettest");
    kubelet = new Kubelet(api, network, testImages(), testAccess(network, server.getPort()), workDir);
    kubelet.start();
  }

  @AfterAll
  void stopNode() {
    if (kubelet != null) {
      kubelet.close();
    }
    if (network != null) {
      network.close();
    }
    if (api != null) {
      api.close();
    }
    if (server != null) {
      server.destroy();
    }
  }

  /** The project's images plus the echo app, from the test classpath. */
  static ContainerImages testImages() {
    String classes = System.getProperty("taskmesh.classes.dir", "target/classes");
    String classpath = Path.of(classes).resolveSibling("test-classes").toAbsolutePath() + java.io.File.pathSeparator
        + Classpath.forChildren();
    return ContainerImages.project().with("taskmesh-test/echo", new ContainerImages.JavaImage(EchoApp.class.getName(),
        List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx64m"), classpath));
  }

  static ClusterAccess testAccess(PodNetwork network, int port) {
    return new ClusterAccess(network.hostAddress().getHostAddress(), port, "-----BEGIN CERTIFICATE-----\ntest\n"
        + "-----END CERTIFICATE-----\n", "test-token");
  }

  @Test
  void aPodRunsInItsOwnNetworkNamespaceAsItsImageUserAndTurnsReady() throws Exception {
    String ns = namespace("ready");
    api.pods().inNamespace(ns).resource(echoPod(ns, "echo-1").build()).create();

    Pod pod = awaitReady(ns, "echo-1");

    String podIp = pod.getStatus().getPodIP();
    assertThat(InetAddress.getByName(podIp).getHostAddress()).startsWith(network.podCidr().substring(0, 9));
    assertThat(get("http://" + podIp + ":8080/")).isEqualTo("echo-1");
    assertThat(get("http://" + podIp + ":8080/env?name=POD_IP")).isEqualTo(podIp);
    assertThat(get("http://" + podIp + ":8080/env?name=POD_NAMESPACE")).isEqualTo(ns);
    assertThat(get("http://" + podIp + ":8080/env?name=KUBERNETES_SERVICE_HOST"))
        .isEqualTo(network.hostAddress().getHostAddress());
    assertThat(get("http://" + podIp + ":8080/file?path=/var/run/secrets/kubernetes.io/serviceaccount/namespace"))
        .isEqualTo(ns);

    long pid = kubelet.pid(ns, "echo-1", "app").orElseThrow();
    String netns = kubelet.networkNamespace(ns, "echo-1").orElseThrow();
    assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString())
        .isEqualTo("net:[" + Files.getAttribute(Path.of("/run/netns", netns), "unix:ino") + "]");
    assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        .anyMatch(line -> line.matches("Uid:\\s+65532\\s+65532\\s+65532\\s+65532"));
    assertThat(pod.getStatus().getContainerStatuses()).singleElement()
        .satisfies(status -> assertThat(status.getReady()).isTrue());
    assertThat(api.nodes().withName("kubelettest").get().getStatus().getConditions())
        .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  @Test
  void podsReachEachOtherAndTheHostByServiceNameThroughTheClusterIp() throws Exception {
    String ns = namespace("svc");
    String clusterIp = serviceAddress(10);
    api.services().inNamespace(ns).resource(new ServiceBuilder()
        .withNewMetadata().withName("echo").withNamespace(ns).endMetadata()
        .withNewSpec().withClusterIP(clusterIp).addNewPort().withName("http").withPort(80)
            .withTargetPort(new IntOrString(8080)).endPort().endSpec()
        .build()).create();
    api.pods().inNamespace(ns).resource(echoPod(ns, "server").build()).create();
    api.pods().inNamespace(ns).resource(echoPod(ns, "client").build()).create();
    String serverIp = awaitReady(ns, "server").getStatus().getPodIP();
    String clientIp = awaitReady(ns, "client").getStatus().getPodIP();
    api.discovery().v1().endpointSlices().inNamespace(ns).resource(new EndpointSliceBuilder()
        .withNewMetadata().withName("echo-abc").withNamespace(ns)
            .addToLabels(KubeProxy.SERVICE_NAME_LABEL, "echo").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
        .addNewEndpoint().withAddresses(serverIp).withNewConditions().withReady(true).endConditions().endEndpoint()
        .build()).create();

    String client = "http://" + clientIp + ":8080";
    for (String name : List.of("echo", "echo." + ns, "echo." + ns + ".svc", "echo." + ns + ".svc.cluster.local")) {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(get(client + "/fetch?url=" + encode("http://" + name + "/"))).isEqualTo("server"));
    }
    // service links, as enableServiceLinks gives every pod of the namespace
    assertThat(get(client + "/env?name=ECHO_SERVICE_HOST")).isEqualTo(clusterIp);
    assertThat(get(client + "/env?name=ECHO_PORT_80_TCP")).isEqualTo("tcp://" + clusterIp + ":80");
    // hairpin: the server reaches itself through its own Service
    assertThat(get("http://" + serverIp + ":8080/fetch?url=" + encode("http://echo/"))).isEqualTo("server");
    // and the host reaches the ClusterIP, through the node
    assertThat(get("http://" + clusterIp + "/")).isEqualTo("server");
    // a Service created while the pods run: their /etc/hosts learns it in place
    api.services().inNamespace(ns).resource(new ServiceBuilder()
        .withNewMetadata().withName("late").withNamespace(ns).endMetadata()
        .withNewSpec().withClusterIP(serviceAddress(11)).addNewPort().withName("http").withPort(80)
            .withTargetPort(new IntOrString(8080)).endPort().endSpec()
        .build()).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(get(client + "/file?path=" + encode("/etc/hosts")))
            .contains(serviceAddress(11) + "\tlate." + ns + ".svc.cluster.local late." + ns + ".svc late." + ns + " late\n"));
    // the host's address is reachable from every pod: the API server, databases and Zipkin listen there
    com.sun.net.httpserver.HttpServer host = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(network.hostAddress(), 18099), 4);
    host.createContext("/", exchange -> {
      byte[] body = "host".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    host.start();
    try {
      assertThat(get(client + "/fetch?url=" + encode("http://" + network.hostAddress().getHostAddress() + ":18099/")))
          .isEqualTo("host");
    } finally {
      host.stop(0);
    }
  }

  @Test
  void aConfigMapChangeReachesTheRunningContainersFileInPlace() throws Exception {
    String ns = namespace("cm");
    api.configMaps().inNamespace(ns).resource(new ConfigMapBuilder()
        .withNewMetadata().withName("greeting").withNamespace(ns).endMetadata()
        .addToData("text", "hello").build()).create();
    api.pods().inNamespace(ns).resource(echoPod(ns, "reader")
        .editSpec()
          .addNewVolume().withName("config").withNewConfigMap().withName("greeting").endConfigMap().endVolume()
          .editFirstContainer().addNewVolumeMount().withName("config").withMountPath("/etc/greeting")
            .withReadOnly(true).endVolumeMount().endContainer()
        .endSpec().build()).create();
    String podIp = awaitReady(ns, "reader").getStatus().getPodIP();
    String file = "http://" + podIp + ":8080/file?path=" + encode("/etc/greeting/text");
    assertThat(get(file)).isEqualTo("hello");
    long pid = kubelet.pid(ns, "reader", "app").orElseThrow();

    api.configMaps().inNamespace(ns).withName("greeting").edit(map -> new ConfigMapBuilder(map)
        .addToData("text", "bye").build());

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(get(file)).isEqualTo("bye"));
    assertThat(kubelet.pid(ns, "reader", "app")).contains(pid);
    assertThat(get("http://" + podIp + ":8080/file?path=" + encode("/etc/greeting/..data/text"))).isEqualTo("bye");
  }

  @Test
  void aSecretReachesTheContainerAsAFileAndAnEnvVariable() throws Exception {
    String ns = namespace("secret");
    api.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName("db").withNamespace(ns).endMetadata()
        .addToData("url", java.util.Base64.getEncoder().encodeToString("jdbc:postgresql://db/tasks".getBytes()))
        .build()).create();
    api.pods().inNamespace(ns).resource(echoPod(ns, "consumer")
        .editSpec()
          .addNewVolume().withName("db").withNewSecret().withSecretName("db").withDefaultMode(0400).endSecret().endVolume()
          .editFirstContainer()
            .addNewVolumeMount().withName("db").withMountPath("/etc/db").withReadOnly(true).endVolumeMount()
            .addNewEnv().withName("DB_URL").withNewValueFrom().withNewSecretKeyRef().withName("db").withKey("url")
              .endSecretKeyRef().endValueFrom().endEnv()
            .withNewSecurityContext().withRunAsUser(0L).endSecurityContext()
          .endContainer()
        .endSpec().build()).create();
    String podIp = awaitReady(ns, "consumer").getStatus().getPodIP();

    assertThat(get("http://" + podIp + ":8080/file?path=" + encode("/etc/db/url"))).isEqualTo("jdbc:postgresql://db/tasks");
    assertThat(get("http://" + podIp + ":8080/env?name=DB_URL")).isEqualTo("jdbc:postgresql://db/tasks");
  }

  @Test
  void aDownwardApiVolumeFollowsThePodsAnnotation() throws Exception {
    String ns = namespace("downward");
    api.pods().inNamespace(ns).resource(echoPod(ns, "annotated")
        .editMetadata().addToAnnotations("example.io/config", "first").endMetadata()
        .editSpec()
          .addNewVolume().withName("config").withNewDownwardAPI().addNewItem().withPath("config.yaml")
            .withNewFieldRef().withFieldPath("metadata.annotations['example.io/config']").endFieldRef().endItem()
          .endDownwardAPI().endVolume()
          .editFirstContainer().addNewVolumeMount().withName("config").withMountPath("/etc/example").endVolumeMount()
          .endContainer()
        .endSpec().build()).create();
    String file = "http://" + awaitReady(ns, "annotated").getStatus().getPodIP() + ":8080/file?path="
        + encode("/etc/example/config.yaml");
    assertThat(get(file)).isEqualTo("first");

    api.pods().inNamespace(ns).withName("annotated").edit(pod -> new PodBuilder(pod).editMetadata()
        .addToAnnotations("example.io/config", "second").endMetadata().build());

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(get(file)).isEqualTo("second"));
  }

  @Test
  void theProjectedServiceAccountVolumeTheApiServerAddsHoldsTokenCaAndNamespace() throws Exception {
    String ns = namespace("projected");
    api.pods().inNamespace(ns).resource(echoPod(ns, "inside")
        .editSpec()
          .addNewVolume().withName("kube-api-access-x1").withNewProjected()
            .addNewSource().withNewServiceAccountToken().withPath("token").withExpirationSeconds(3607L)
              .endServiceAccountToken().endSource()
            .addNewSource().withNewConfigMap().withName("kube-root-ca.crt").addNewItem().withKey("ca.crt")
              .withPath("ca.crt").endItem().endConfigMap().endSource()
            .addNewSource().withNewDownwardAPI().addNewItem().withPath("namespace").withNewFieldRef()
              .withFieldPath("metadata.namespace").endFieldRef().endItem().endDownwardAPI().endSource()
          .endProjected().endVolume()
          .editFirstContainer().addNewVolumeMount().withName("kube-api-access-x1").withReadOnly(true)
            .withMountPath("/var/run/secrets/kubernetes.io/serviceaccount").endVolumeMount().endContainer()
        .endSpec().build()).create();
    String base = "http://" + awaitReady(ns, "inside").getStatus().getPodIP() + ":8080/file?path="
        + encode("/var/run/secrets/kubernetes.io/serviceaccount/");

    assertThat(get(base + "token")).isEqualTo("test-token");
    assertThat(get(base + "ca.crt")).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(get(base + "namespace")).isEqualTo(ns);
  }

  @Test
  void initContainersRunInOrderAndTheNativeSidecarStartsBeforeTheAppAndStopsAfterIt() throws Exception {
    String ns = namespace("init");
    String loop = "trap 'echo stop $(date +%s%N); exit 0' TERM; echo start $(date +%s%N); while :; do sleep 0.1; done";
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("ordered").withNamespace(ns).endMetadata()
        .withNewSpec()
          .withTerminationGracePeriodSeconds(10L)
          .addNewVolume().withName("shared").withNewEmptyDir().endEmptyDir().endVolume()
          .addToInitContainers(sharing(shell("first", "echo start $(date +%s%N); echo first > /shared/first")))
          .addToInitContainers(sharing(shell("second", "test -f /shared/first && echo start $(date +%s%N)")))
          .addToInitContainers(new ContainerBuilder(sharing(shell("sidecar", "sleep 1; touch /shared/sidecar-up; " + loop)))
              .withRestartPolicy("Always")
              .withNewStartupProbe().withNewExec().withCommand("test", "-f", "/shared/sidecar-up").endExec()
                .withPeriodSeconds(1).withFailureThreshold(60).endStartupProbe()
              .build())
          .addToContainers(sharing(shell("app", "test -f /shared/sidecar-up && " + loop)))
        .endSpec().build()).create();
    awaitReady(ns, "ordered");
    Map<String, Path> logs = new HashMap<>();
    for (String container : List.of("first", "second", "sidecar", "app")) {
      logs.put(container, kubelet.logFile(ns, "ordered", container).orElseThrow());
    }

    api.pods().inNamespace(ns).withName("ordered").delete();

    await().atMost(Duration.ofSeconds(60)).until(() -> logTimes(logs.get("sidecar")).containsKey("stop"));
    long first = logTimes(logs.get("first")).get("start");
    long second = logTimes(logs.get("second")).get("start");
    Map<String, Long> sidecar = logTimes(logs.get("sidecar"));
    Map<String, Long> app = logTimes(logs.get("app"));
    assertThat(first).isLessThan(second);
    assertThat(second).isLessThan(sidecar.get("start"));
    assertThat(sidecar.get("start")).isLessThan(app.get("start"));
    assertThat(app.get("stop")).isLessThan(sidecar.get("stop"));
  }

  @Test
  void deletionSendsSigtermAndKillsAfterTheGracePeriod() throws Exception {
    String ns = namespace("grace");
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("stubborn").withNamespace(ns).endMetadata()
        .withNewSpec().withTerminationGracePeriodSeconds(3L)
          .addToContainers(shell("app", "trap 'echo got-term' TERM; echo running; while :; do sleep 0.1; done"))
        .endSpec().build()).create();
    awaitReady(ns, "stubborn");
    long pid = kubelet.pid(ns, "stubborn", "app").orElseThrow();
    Path log = kubelet.logFile(ns, "stubborn", "app").orElseThrow();

    Instant deleted = Instant.now();
    api.pods().inNamespace(ns).withName("stubborn").delete();

    await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(log).contains("got-term"));
    assertThat(Files.exists(Path.of("/proc/" + pid))).as("alive during its grace period").isTrue();
    await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + pid)));
    assertThat(Duration.between(deleted, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void aPodMarkedForDeletionIsStoppedAndThenRemovedByTheKubelet() {
    String ns = namespace("finalize");
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("marked").withNamespace(ns).addToFinalizers("test.taskmesh.io/hold").endMetadata()
        .withNewSpec().withTerminationGracePeriodSeconds(5L)
          .addToContainers(shell("app", "trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done"))
        .endSpec().build()).create();
    awaitReady(ns, "marked");
    long pid = kubelet.pid(ns, "marked", "app").orElseThrow();

    api.pods().inNamespace(ns).withName("marked").delete();

    // the API server only marks a pod that has a finalizer: the kubelet stops it while the object stays
    await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + pid)));
    assertThat(api.pods().inNamespace(ns).withName("marked").get().getMetadata().getDeletionTimestamp()).isNotNull();
    // a merge patch, as a controller lifting its finalizer sends: the kubelet's status writes cannot conflict with it
    api.pods().inNamespace(ns).withName("marked").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"finalizers\":null}}");
    await().atMost(Duration.ofSeconds(30)).until(() -> api.pods().inNamespace(ns).withName("marked").get() == null);
  }

  @Test
  void aCrashedContainerIsRestartedAndCounted() {
    String ns = namespace("crash");
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("crasher").withNamespace(ns).endMetadata()
        .withNewSpec().addToContainers(shell("app", "echo crashing; exit 3")).endSpec().build()).create();

    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
      var status = api.pods().inNamespace(ns).withName("crasher").get().getStatus().getContainerStatuses().get(0);
      assertThat(status.getRestartCount()).isGreaterThanOrEqualTo(2);
      assertThat(status.getLastState().getTerminated().getExitCode()).isEqualTo(3);
    });
    assertThat(kubelet.logTail(ns, "crasher", "app").orElseThrow()).contains("crashing");
  }

  @Test
  void aFailingLivenessProbeRestartsTheContainer() throws Exception {
    String ns = namespace("liveness");
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("sickly").withNamespace(ns).endMetadata()
        .withNewSpec()
          .addNewVolume().withName("shared").withNewEmptyDir().endEmptyDir().endVolume()
          .addToContainers(new ContainerBuilder(sharing(shell("app",
                  "if [ -f /shared/ran ]; then touch /shared/alive; fi; touch /shared/ran; echo up;"
                      + " while :; do sleep 0.1; done")))
              .withNewLivenessProbe().withNewExec().withCommand("test", "-f", "/shared/alive").endExec()
                .withPeriodSeconds(1).withFailureThreshold(2).endLivenessProbe()
              .build())
        .endSpec().build()).create();

    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
      var status = api.pods().inNamespace(ns).withName("sickly").get().getStatus().getContainerStatuses().get(0);
      assertThat(status.getRestartCount()).isEqualTo(1);
      assertThat(status.getState().getRunning()).isNotNull();
    });
    assertThat(kubelet.logTail(ns, "sickly", "app").orElseThrow()).contains("liveness probe failed");
    long pid = kubelet.pid(ns, "sickly", "app").orElseThrow();
    // alive now: throughout a few probe periods it stays the same process
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> kubelet.pid(ns, "sickly", "app").equals(java.util.Optional.of(pid)));
  }

  @Test
  void aPodThatMayNotRestartSucceedsWhenItsContainersExitZero() {
    String ns = namespace("batch");
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("job").withNamespace(ns).endMetadata()
        .withNewSpec().withRestartPolicy("Never").addToContainers(shell("app", "echo done")).endSpec().build()).create();

    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
      Pod pod = api.pods().inNamespace(ns).withName("job").get();
      assertThat(pod.getStatus().getPhase()).isEqualTo("Succeeded");
      assertThat(pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode()).isZero();
    });
  }

  @Test
  void anInitContainerInstallsIptablesRulesInsideThePodsNetworkNamespace() throws Exception {
    String ns = namespace("capture");
    String redirected = serviceAddress(99);
    api.pods().inNamespace(ns).resource(echoPod(ns, "captured")
        .editSpec()
          .addToInitContainers(new ContainerBuilder()
              .withName("capture").withImage("registry.test/some/iptables-init:1")
              .withCommand("/bin/sh", "-c", "iptables -w -t nat -A OUTPUT -p tcp -d " + redirected
                  + " --dport 9999 -j REDIRECT --to-ports 8080 && grep -E '^Cap(Eff|Bnd)' /proc/self/status")
              .withNewSecurityContext().withRunAsUser(0L).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().addToAdd("NET_ADMIN", "NET_RAW").addToDrop("ALL").endCapabilities()
              .endSecurityContext()
              .build())
        .endSpec().build()).create();
    String podIp = awaitReady(ns, "captured").getStatus().getPodIP();

    // inside the pod, a call to redirected:9999 lands on the pod's own listener
    assertThat(get("http://" + podIp + ":8080/fetch?url=" + encode("http://" + redirected + ":9999/")))
        .isEqualTo("captured");
    // the init container held NET_ADMIN and NET_RAW (bits 12, 13) and nothing else
    assertThat(kubelet.logTail(ns, "captured", "capture").orElseThrow())
        .contains("CapEff:\t0000000000003000").contains("CapBnd:\t0000000000003000");
    // the rule lives in the pod's namespace only, not in the node's
    String nodeRules = HostCommand.run(List.of("ip", "netns", "exec", network.nodeNamespace(), "iptables", "-t", "nat", "-S"));
    assertThat(nodeRules).doesNotContain("9999");
  }

  @Test
  void theTaskServiceImageRunsFromTheBuiltJarsAsItsJibEntrypointAndPassesItsGrpcProbe() throws Exception {
    String ns = namespace("project");
    api.pods().inNamespace(ns).resource(new PodBuilder()
        .withNewMetadata().withName("tasks").withNamespace(ns).endMetadata()
        .withNewSpec()
          .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(65532L).withFsGroup(65532L).endSecurityContext()
          .addNewVolume().withName("data").withNewEmptyDir().endEmptyDir().endVolume()
          .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
          .addNewContainer().withName("task-service").withImage("example.registry/taskmesh/task-service:0.1.0")
            .addNewEnv().withName("TASK_SERVICE_DATABASE_URL").withValue("jdbc:h2:file:/data/tasks").endEnv()
            .addNewPort().withName("grpc").withContainerPort(50051).endPort()
            .addNewVolumeMount().withName("data").withMountPath("/data").endVolumeMount()
            .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
            .withNewResources().addToLimits("memory", new io.fabric8.kubernetes.api.model.Quantity("256Mi")).endResources()
            .withNewStartupProbe().withNewTcpSocket().withPort(new IntOrString("grpc")).endTcpSocket()
              .withPeriodSeconds(1).withFailureThreshold(100).endStartupProbe()
            .withNewReadinessProbe().withNewGrpc().withPort(50051).endGrpc().withPeriodSeconds(1).endReadinessProbe()
            .withNewLivenessProbe().withNewTcpSocket().withPort(new IntOrString("grpc")).endTcpSocket()
              .withPeriodSeconds(2).endLivenessProbe()
          .endContainer()
        .endSpec().build()).create();

    awaitReady(ns, "tasks");

    long pid = kubelet.pid(ns, "tasks", "task-service").orElseThrow();
    String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    assertThat(cmdline).contains("-XX:MaxRAM=268435456 -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError")
        .endsWith("io.taskmesh.taskservice.Main ");
    assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        .anyMatch(line -> line.matches("Groups:\\s+65532\\s*"));
    try (var files = Files.walk(workDir.resolve("pods"))) {
      assertThat(files.map(Path::toString)).anyMatch(path -> path.contains(ns + "_tasks_")
          && path.endsWith("/volumes/data/tasks.mv.db"));
    }
  }

  private Pod awaitReady(String ns, String name) {
    try {
      await().atMost(START_BOUND).pollInterval(Duration.ofMillis(250)).until(() -> {
        Pod pod = api.pods().inNamespace(ns).withName(name).get();
        return pod != null && pod.getStatus() != null && pod.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      Pod pod = api.pods().inNamespace(ns).withName(name).get();
      StringBuilder report = new StringBuilder("pod " + ns + "/" + name + " not Ready; status: "
          + (pod == null ? "(gone)" : pod.getStatus()));
      if (pod != null) {
        pod.getSpec().getInitContainers().forEach(c -> report.append("\n--- ").append(c.getName()).append(":\n")
            .append(kubelet.logTail(ns, name, c.getName()).orElse("(no log)")));
        pod.getSpec().getContainers().forEach(c -> report.append("\n--- ").append(c.getName()).append(":\n")
            .append(kubelet.logTail(ns, name, c.getName()).orElse("(no log)")));
      }
      throw new AssertionError(report.toString(), e);
    }
    return api.pods().inNamespace(ns).withName(name).get();
  }

  private String namespace(String name) {
    api.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
    return name;
  }

  private String serviceAddress(int host) {
    String cidr = network.serviceCidr();
    return cidr.substring(0, cidr.lastIndexOf('.')) + "." + host;
  }

  static PodBuilder echoPod(String ns, String name) {
    return new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).addToLabels("app", name).endMetadata()
        .withNewSpec()
          .addNewContainer().withName("app").withImage(ECHO_IMAGE)
            .addNewPort().withName("http").withContainerPort(8080).endPort()
            .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
              .endFieldRef().endValueFrom().endEnv()
            .addNewEnv().withName("POD_NAMESPACE").withNewValueFrom().withNewFieldRef()
              .withFieldPath("metadata.namespace").endFieldRef().endValueFrom().endEnv()
            .addNewEnv().withName("POD_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP")
              .endFieldRef().endValueFrom().endEnv()
            .withNewReadinessProbe().withNewHttpGet().withPath("/").withPort(new IntOrString("http")).endHttpGet()
              .withPeriodSeconds(1).endReadinessProbe()
          .endContainer()
        .endSpec();
  }

  static io.fabric8.kubernetes.api.model.Container shell(String name, String script) {
    return new ContainerBuilder().withName(name).withImage("registry.test/library/busybox:1")
        .withCommand("sh", "-c", script)
        .build();
  }

  static io.fabric8.kubernetes.api.model.Container sharing(io.fabric8.kubernetes.api.model.Container container) {
    return new ContainerBuilder(container)
        .addNewVolumeMount().withName("shared").withMountPath("/shared").endVolumeMount().build();
  }

  /** "start"/"stop" → nanosecond timestamps a shell container logged. */
  private static Map<String, Long> logTimes(Path log) throws IOException {
    Map<String, Long> times = new HashMap<>();
    for (String line : Files.readAllLines(log)) {
      String[] words = line.split(" ");
      if (words.length == 2 && (words[0].equals("start") || words[0].equals("stop"))) {
        times.put(words[0], Long.parseLong(words[1]));
      }
    }
    return times;
  }

  private String get(String url) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .build(), HttpResponse.BodyHandlers.ofString());
    return response.body();
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
