package io.taskmesh.operator;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.EndpointSliceWatcher;
import io.taskmesh.operator.discovery.PodAcks;
import io.taskmesh.operator.discovery.ServiceAddressWatcher;
import io.taskmesh.operator.reconciler.SidecarCensus;
import io.taskmesh.operator.route.GrpcRouteController;
import io.taskmesh.operator.route.RouteTables;
import io.taskmesh.operator.reconciler.TaskServiceReconciler;
import io.taskmesh.operator.webhook.InjectionWebhook;
import io.taskmesh.operator.webhook.WebhookSettings;
import java.time.Clock;
import java.util.stream.Collectors;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator, the discovery server (15010), the injection webhook (9443) and health endpoints on the
 * metrics port (8081). Only reconciliation is behind leader election; every replica serves discovery and
 * the webhook.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> env = System.getenv();
    KubernetesClient client = new KubernetesClientBuilder().build();
    boolean leaderElection = Boolean.parseBoolean(env.getOrDefault("TASKMESH_LEADER_ELECTION", "true"));
    String namespace = env.getOrDefault("TASKMESH_NAMESPACE", "taskmesh-system");
    String identity = env.getOrDefault("TASKMESH_POD_NAME", env.getOrDefault("HOSTNAME", ""));
    Operator operator = Operators.create(client, leaderElection
        ? Operators.leaderElection(namespace, identity).build() : null);
    EndpointRegistry endpoints = new EndpointRegistry();
    EndpointSliceWatcher slices = new EndpointSliceWatcher(client, endpoints);
    slices.start();
    RouteTables routeTables = new RouteTables();
    GrpcRouteController grpcRoutes = new GrpcRouteController(client, routeTables, Clock.systemUTC());
    grpcRoutes.start();
    int discoveryPort = Integer.parseInt(env.getOrDefault("TASKMESH_DISCOVERY_PORT", "15010"));
    ServiceAddressWatcher clusterAddresses = new ServiceAddressWatcher(client, endpoints);
    clusterAddresses.start();
    PodAcks acks = new PodAcks(client);
    DiscoveryServer discovery = DiscoveryServer.start("0.0.0.0", discoveryPort, endpoints, routeTables, acks);
    SidecarCensus census = SidecarCensus.fromPods(client);
    Set<String> watched = Arrays.stream(env.getOrDefault("TASKMESH_WATCH_NAMESPACES", "").split(","))
        .map(String::trim).filter(ns -> !ns.isEmpty()).collect(Collectors.toSet());
    // dependents' informers follow the controller's namespaces
    operator.register(new TaskServiceReconciler(OperatorSettings.CURRENT, Clock.systemUTC(), census),
        overrider -> {
          if (!watched.isEmpty()) {
            overrider.settingNamespaces(watched);
          }
        });
    operator.start();
    WebhookSettings webhookSettings = WebhookSettings.fromEnvironment(env);
    InjectionWebhook webhook = webhookSettings.enabled()
        ? InjectionWebhook.start(client, OperatorSettings.CURRENT, webhookSettings, Clock.systemUTC()) : null;
    int port = Integer.parseInt(env.getOrDefault("TASKMESH_METRICS_PORT", "8081"));
    HttpServer health = HttpServer.create(new InetSocketAddress(port), 0);
    health.createContext("/healthz", exchange -> answer(exchange, 200, "ok"));
    health.createContext("/ready", exchange -> {
      boolean running = operator.getRuntimeInfo().allEventSourcesAreHealthy();
      answer(exchange, running ? 200 : 503, running ? "ready" : "event sources not healthy");
    });
    health.start();
    log.info("event=operator_started health_port={} discovery_port={} webhook_port={} leader_election={}", port,
        discoveryPort, webhook == null ? "off" : webhook.port(), leaderElection);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (webhook != null) {
        webhook.close();
      }
      discovery.close();
      grpcRoutes.close();
      acks.close();
      clusterAddresses.close();
      slices.close();
      operator.stop();
      health.stop(0);
    }, "operator-stop"));
  }

  private static void answer(com.sun.net.httpserver.HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(code, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }
}
