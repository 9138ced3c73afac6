package io.taskmesh.operator;

import io.taskmesh.operator.webhook.WebhookMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;
import io.taskmesh.operator.RequestAudit.Call;
import io.taskmesh.operator.api.DatabaseSpec;
import io.taskmesh.operator.api.TaskService;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.EndpointSliceWatcher;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.operator.lifecycle.CrdInstaller;
import io.taskmesh.operator.lifecycle.ReleaseCleanup;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.taskmesh.operator.identity.Certificates;
import io.taskmesh.operator.identity.Csrs;
import io.taskmesh.operator.identity.IdentitySettings;
import io.taskmesh.operator.identity.IssuerClients;
import io.taskmesh.operator.identity.IssuerServer;
import io.taskmesh.operator.identity.TokenReviews;
import io.taskmesh.identity.v1.IssuerGrpc;
import io.grpc.ManagedChannel;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import io.taskmesh.operator.route.GrpcRouteController;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.operator.webhook.CertificateStore;
import io.taskmesh.operator.webhook.InjectionWebhook;
import io.taskmesh.operator.webhook.WebhookFixture;
import io.taskmesh.operator.webhook.WebhookSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Runs everything the operator does against the mock API server with clients that carry one User-Agent,
 * records the requests they made, and checks that each is in {@link Permissions#ALL} (in the operator's
 * own namespace where the list says so). A new client call that a test exercises fails here until it is
 * listed, and then the chart's RBAC test fails until the chart grants it.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorPermissionsTest {
  private static final String AGENT = "taskmesh-operator-under-audit";
  private static final String OPERATOR_NAMESPACE = "taskmesh-system";
  private static final String NAMESPACE = "audit";
  private static final Duration BOUND = Duration.ofSeconds(90);

  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void everyCallTheOperatorMakesIsInItsPermissionList() throws Exception {
    LeaseAccess.answerAccessReviews(server);
    client.resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE)
        .addToLabels("taskmesh.io/injection", "enabled").endMetadata().build()).create();
    client.resource(WebhookFixture.configuration("audit-injector")).create();

    Operator operator = Operators.create(audited(), Operators.leaderElection(OPERATOR_NAMESPACE, "audited")
        .withLeaseDuration(Duration.ofSeconds(4)).withRenewDeadline(Duration.ofSeconds(3))
        .withRetryPeriod(Duration.ofMillis(500)).withExitOnStopLeading(false).build(), new SimpleMeterRegistry());
    operator.register(new TaskServiceReconciler(TestTaskServices.SETTINGS, Clock.systemUTC(), (ns, svc) -> Map.of(),
        new EventRecorder(Clock.systemUTC(), "audited")));
    operator.start();
    EndpointRegistry registry = new EndpointRegistry();
    KubernetesClient watcherClient = audited();
    EndpointSliceWatcher slices = new EndpointSliceWatcher(watcherClient, registry);
    slices.start();
    GrpcRouteController grpcRoutes = new GrpcRouteController(watcherClient, new RouteTables(), Clock.systemUTC());
    grpcRoutes.start();
    KubernetesClient webhookClient = audited();
    WebhookSettings webhookSettings = new WebhookSettings(true, "127.0.0.1", 0, OPERATOR_NAMESPACE, "audit-injector",
        "localhost", "audit-cert", true, Path.of("unused"));
    try (InjectionWebhook webhook = InjectionWebhook.start(webhookClient, TestTaskServices.SETTINGS, webhookSettings,
        Clock.systemUTC(), new WebhookMetrics(new SimpleMeterRegistry()))) {
      reconcileEveryDependentThroughItsLifecycle();
      AdmissionResponse admitted = WebhookFixture.admitPod(client, webhookSettings, webhook.port(), NAMESPACE, "audit");
      assertThat(admitted.getPatch()).as("injected: %s", admitted.getStatus()).isNotNull();
      CertificateStore.managed(webhookClient, webhookSettings,
          Clock.fixed(Instant.now().plus(Duration.ofDays(340)), ZoneOffset.UTC));  // rotation: update
      client.resource(new EndpointSliceBuilder().withNewMetadata().withName("audit-1").withNamespace(NAMESPACE)
          .addToLabels("kubernetes.io/service-name", "audit").endMetadata().withAddressType("IPv4")
          .addNewEndpoint().withAddresses("10.0.0.1").endEndpoint()
          .addNewPort().withName("grpc").withPort(15006).endPort().build()).create();
      await().atMost(BOUND).until(() -> !registry.current(new ServiceKey("audit", NAMESPACE)).endpoints().isEmpty());
      awaitARouteStatus();
      awaitALeaseRenewal();
      certifyAWorkload();
    } finally {
      grpcRoutes.close();
      slices.close();
      operator.stop();
      watcherClient.close();
      webhookClient.close();
    }

    // the chart's hooks, once the operator has stopped: pre-upgrade brings the CRD up to date (create, then
    // update), post-delete removes the Secret and the Lease
    try (KubernetesClient hookClient = audited()) {
      CrdInstaller.apply(hookClient);
      CrdInstaller.apply(hookClient);
      assertThat(ReleaseCleanup.run(hookClient, OPERATOR_NAMESPACE, "audit-cert", true))
          .containsExactly("secret/audit-cert", "lease/" + Operators.LEASE_NAME);
    }

    List<Call> calls = RequestAudit.drain(server, AGENT);
    Set<String> unlisted = calls.stream().filter(call -> !listed(call))
        .map(call -> call.apiGroup() + "/" + call.resource() + " " + call.verb() + " (" + call.request() + ")")
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(unlisted).as("calls the operator made that Permissions.ALL does not list").isEmpty();
    Set<String> made = calls.stream().map(call -> call.apiGroup() + "/" + call.resource() + " " + call.verb())
        .collect(Collectors.toSet());
    assertThat(made).as("the scenario exercises the webhook, certificate, lease and dependent calls").contains(
        "/namespaces list", "/namespaces watch", "/configmaps get", "admissionregistration.k8s.io/mutatingwebhookconfigurations patch",
        "/secrets create", "/secrets update", "/configmaps update", "coordination.k8s.io/leases patch", "policy/poddisruptionbudgets delete",
        "taskmesh.io/taskservices/status patch", "apps/deployments create", "discovery.k8s.io/endpointslices watch",
        "gateway.networking.k8s.io/grpcroutes watch", "gateway.networking.k8s.io/grpcroutes/status update",
        "apiextensions.k8s.io/customresourcedefinitions create", "apiextensions.k8s.io/customresourcedefinitions update",
        "/secrets delete", "coordination.k8s.io/leases delete", "authentication.k8s.io/tokenreviews create");
  }

  private void reconcileEveryDependentThroughItsLifecycle() {
    client.resource(TestTaskServices.withTimeout(NAMESPACE, "audit", "2s")).create();
    await().atMost(BOUND).until(() -> client.apps().deployments().inNamespace(NAMESPACE).withName("audit").get() != null);
    edit(ts -> {
      ts.getSpec().replicas = 2;
      ts.getSpec().database = new DatabaseSpec();
      ts.getSpec().database.postgresUrlSecret = new SecretKeySelector("url", "audit-db", false);
    });
    await().atMost(BOUND).until(() -> pdb() != null);
    String config = await().atMost(BOUND).until(() -> proxyConfig(), Objects::nonNull);
    edit(ts -> ts.getSpec().mesh.timeout = "9s");
    await().atMost(BOUND).until(() -> !config.equals(proxyConfig()));
    edit(ts -> ts.getSpec().replicas = 1);
    await().atMost(BOUND).until(() -> pdb() == null);
    await().atMost(BOUND).until(() -> {
      Deployment deployment = client.apps().deployments().inNamespace(NAMESPACE).withName("audit").get();
      return deployment.getSpec().getReplicas() == 1;
    });
  }

  private void awaitARouteStatus() {
    client.resource(new GRPCRouteBuilder().withNewMetadata().withName("audit").withNamespace(NAMESPACE).endMetadata()
        .withNewSpec().addNewParentRef().withGroup("").withKind("Service").withName("audit").endParentRef()
        .addNewRule().addNewBackendRef().withName("audit").endBackendRef().endRule().endSpec().build()).create();
    await().atMost(BOUND).until(() -> {
      GRPCRoute route = client.resources(GRPCRoute.class).inNamespace(NAMESPACE).withName("audit").get();
      return route.getStatus() != null && !route.getStatus().getParents().isEmpty();
    });
  }

  /** The issuer makes its trust anchor Secret and reviews the workload's token. */
  private void certifyAWorkload() throws Exception {
    TokenReviews.answer(server, Map.of("audit-token", new TokenReviews.Token(NAMESPACE, "audit", List.of("taskmesh"))));
    KubernetesClient issuerClient = audited();
    IdentitySettings settings = new IdentitySettings(true, "cluster.local", "127.0.0.1", 0, OPERATOR_NAMESPACE,
        "taskmesh-operator", "taskmesh-operator", "audit-anchor", true, Duration.ofHours(24));
    try (IssuerServer issuer = IssuerServer.start(issuerClient, settings, Clock.systemUTC())) {
      ManagedChannel channel = IssuerClients.channelTrusting(issuer.trustAnchors(), issuer.port());
      try {
        IssuerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).certify(IssuerClients.request(
            Csrs.askingFor(Certificates.newKeyPair(), "spiffe://cluster.local/ns/" + NAMESPACE + "/sa/audit"),
            "audit-token"));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      issuerClient.close();
    }
  }

  private void awaitALeaseRenewal() {
    String first = await().atMost(BOUND).until(this::renewTime, Objects::nonNull);
    await().atMost(BOUND).until(this::renewTime, renewed -> renewed != null && !renewed.equals(first));
  }

  private String renewTime() {
    Lease lease = client.leases().inNamespace(OPERATOR_NAMESPACE).withName(Operators.LEASE_NAME).get();
    return lease == null || lease.getSpec().getRenewTime() == null ? null : lease.getSpec().getRenewTime().toString();
  }

  private String proxyConfig() {
    var configMap = client.configMaps().inNamespace(NAMESPACE).withName("audit-proxy").get();
    return configMap == null ? null : configMap.getData().get("proxy.yaml");
  }

  private PodDisruptionBudget pdb() {
    return client.policy().v1().podDisruptionBudget().inNamespace(NAMESPACE).withName("audit").get();
  }

  private void edit(Consumer<TaskService> change) {
    await().atMost(BOUND).ignoreExceptions().until(() -> {
      TaskService current = client.resources(TaskService.class).inNamespace(NAMESPACE).withName("audit").get();
      change.accept(current);
      client.resource(current).update();
      return true;
    });
  }

  private static boolean listed(Call call) {
    return Permissions.ALL.stream().anyMatch(p -> p.apiGroup().equals(call.apiGroup())
        && p.resource().equals(call.resource()) && p.verb().equals(call.verb())
        && (p.scope() != Permissions.Scope.OPERATOR_NAMESPACE || OPERATOR_NAMESPACE.equals(call.namespace()))
        && (p.scope() != Permissions.Scope.CLEANUP_HOOK || OPERATOR_NAMESPACE.equals(call.namespace()))
        && (p.scope() != Permissions.Scope.WATCHED_NAMESPACES || call.namespace() == null
            || NAMESPACE.equals(call.namespace())));
  }

  private static KubernetesClient audited() {
    return new KubernetesClientBuilder()
        .withConfig(new ConfigBuilder(client.getConfiguration()).withUserAgent(AGENT).build()).build();
  }
}
