package io.taskmesh.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.taskmesh.discovery.v1.Node;
import io.taskmesh.operator.admin.AdminServer;
import io.taskmesh.operator.authz.AuthorizationPolicyController;
import io.taskmesh.operator.authz.AuthorizationTables;
import io.taskmesh.operator.discovery.DiscoveryLimits;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.EndpointSliceWatcher;
import io.taskmesh.operator.discovery.PodAcks;
import io.taskmesh.operator.discovery.ServiceAddressWatcher;
import io.taskmesh.operator.lifecycle.CrdInstaller;
import io.taskmesh.operator.lifecycle.ReleaseCleanup;
import io.taskmesh.operator.reconciler.EventRecorder;
import io.taskmesh.operator.identity.IdentitySettings;
import io.taskmesh.operator.identity.IssuerServer;
import io.taskmesh.operator.identity.TrustBundlePublisher;
import io.taskmesh.operator.discovery.MeshedPods;
import java.util.Optional;
import io.taskmesh.operator.reconciler.SidecarCensus;
import io.taskmesh.operator.route.GrpcRouteController;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import io.taskmesh.operator.webhook.InjectionWebhook;
import io.taskmesh.operator.webhook.WebhookMetrics;
import io.taskmesh.operator.webhook.WebhookSettings;
import java.io.IOException;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator, the discovery server (15010), the injection webhook (9443), the workload certificate
 * issuer (15012, when identity is enabled) and the health and metrics endpoints (8081). Only reconciliation
 * is behind leader election; every replica serves discovery, the webhook and the issuer.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  /**
   * Without arguments: the operator. {@code apply-crds}: bring the CRD up to this version and exit (the
   * chart's pre-upgrade hook). {@code uninstall}: delete the Secret and Lease the operator made and exit
   * (the chart's pre-delete hook).
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> env = System.getenv();
    if (args.length > 0) {
      runCommand(args[0], env);
      return;
    }
    OperatorSettings settings = OperatorSettings.fromEnvironment(env);
    KubernetesClient client = new KubernetesClientBuilder().build();
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    boolean leaderElection = Boolean.parseBoolean(env.getOrDefault("TASKMESH_LEADER_ELECTION", "true"));
    String namespace = env.getOrDefault("TASKMESH_NAMESPACE", "taskmesh-system");
    String identity = env.getOrDefault("TASKMESH_POD_NAME", env.getOrDefault("HOSTNAME", ""));
    Operator operator = Operators.create(client, leaderElection
        ? Operators.leaderElection(namespace, identity).build() : null, metrics);
    EndpointRegistry endpoints = new EndpointRegistry();
    IdentitySettings identitySettings = IdentitySettings.fromEnvironment(env);
    Optional<MeshedPods> meshedPods = identitySettings.enabled()
        ? Optional.of(new MeshedPods(client, identitySettings.trustDomain())) : Optional.empty();
    EndpointSliceWatcher slices = new EndpointSliceWatcher(client, endpoints, meshedPods);
    slices.start();
    RouteTables routeTables = new RouteTables();
    GrpcRouteController grpcRoutes = new GrpcRouteController(client, routeTables, Clock.systemUTC());
    grpcRoutes.start();
    int discoveryPort = Integer.parseInt(env.getOrDefault("TASKMESH_DISCOVERY_PORT", "15010"));
    ServiceAddressWatcher clusterAddresses = new ServiceAddressWatcher(client, endpoints);
    clusterAddresses.start();
    // the operator's namespace (the gateway's) may discover every service; more with TASKMESH_DISCOVERY_OPEN_TO
    AuthorizationTables authorization = new AuthorizationTables(Arrays.stream(
            env.getOrDefault("TASKMESH_DISCOVERY_OPEN_TO", namespace).split(","))
        .map(String::trim).filter(ns -> !ns.isEmpty()).collect(Collectors.toSet()));
    AuthorizationPolicyController policies = new AuthorizationPolicyController(client, authorization, Clock.systemUTC());
    policies.start();
    PodAcks acks = new PodAcks(client, policies::acksChanged);
    IssuerServer issuer = identitySettings.enabled()
        ? IssuerServer.start(client, identitySettings, Clock.systemUTC()) : null;
    TrustBundlePublisher trustBundles = issuer == null ? null : new TrustBundlePublisher(client, issuer::trustAnchors,
        identitySettings.namespace());
    if (trustBundles != null) {
      trustBundles.start();
    }
    // with identity on, discovery takes only peers with a workload certificate, and bounds each by its identity
    DiscoveryServer discovery = DiscoveryServer.start("0.0.0.0", discoveryPort, endpoints, routeTables, authorization,
        acks, DiscoveryLimits.DEFAULTS, metrics, Optional.ofNullable(issuer).map(IssuerServer::mutualTls));
    Gauge.builder("taskmesh.discovery.subscribers", discovery, server -> server.service().subscribers().size())
        .description("Sidecars subscribed to the discovery server of this replica").register(metrics);
    SidecarCensus census = SidecarCensus.fromPods(client);
    Set<String> watched = Arrays.stream(env.getOrDefault("TASKMESH_WATCH_NAMESPACES", "").split(","))
        .map(String::trim).filter(ns -> !ns.isEmpty()).collect(Collectors.toSet());
    // dependents' informers follow the controller's namespaces
    operator.register(new TaskServiceReconciler(settings, Clock.systemUTC(), census,
        new EventRecorder(Clock.systemUTC(), identity)),
        overrider -> {
          if (!watched.isEmpty()) {
            overrider.settingNamespaces(watched);
          }
        });
    operator.start();
    WebhookSettings webhookSettings = WebhookSettings.fromEnvironment(env);
    InjectionWebhook webhook = webhookSettings.enabled()
        ? InjectionWebhook.start(client, settings, webhookSettings, Clock.systemUTC(), new WebhookMetrics(metrics))
        : null;
    int port = Integer.parseInt(env.getOrDefault("TASKMESH_METRICS_PORT", "8081"));
    AdminServer admin = AdminServer.start("0.0.0.0", port,
        () -> operator.getRuntimeInfo().allEventSourcesAreHealthy(), metrics);
    log.info("event=operator_started admin_port={} discovery_port={} webhook_port={} issuer_port={} leader_election={}",
        port, discoveryPort, webhook == null ? "off" : webhook.port(), issuer == null ? "off" : issuer.port(),
        leaderElection);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (webhook != null) {
        webhook.close();
      }
      if (issuer != null) {
        trustBundles.close();
        issuer.close();
      }
      discovery.close();
      grpcRoutes.close();
      policies.close();
      acks.close();
      clusterAddresses.close();
      slices.close();
      meshedPods.ifPresent(MeshedPods::close);
      operator.stop();
      admin.close();
    }, "operator-stop"));
  }

  private static void runCommand(String command, Map<String, String> env) {
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      switch (command) {
        case "apply-crds" -> log.info("event=crd_applied result={}", CrdInstaller.apply(client));
        case "uninstall" -> {
          WebhookSettings webhook = WebhookSettings.fromEnvironment(env);
          log.info("event=release_cleaned deleted={}", ReleaseCleanup.run(client, webhook.namespace(),
              webhook.enabled() && webhook.certManaged() ? webhook.certSecret() : null,
              Boolean.parseBoolean(env.getOrDefault("TASKMESH_LEADER_ELECTION", "true"))));
        }
        default -> throw new IllegalArgumentException("unknown command \"" + command
            + "\": expected none (run the operator), apply-crds or uninstall");
      }
    }
  }
}
