package io.taskmesh.operator.route;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.taskmesh.config.RouteRule;
import io.taskmesh.operator.lifecycle.CoalescedPass;
import io.taskmesh.operator.discovery.ServiceKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches GRPCRoutes and Services in every namespace and keeps {@link RouteTables} and the routes' status
 * in step with them. Any change re-derives every table from the informers' caches on one thread (routes
 * are few, and a Service appearing can make another route's backend resolve). A route that stops being
 * usable (a backend Service gone, an unsupported field) keeps its last usable rules in the tables: it
 * changes no traffic until it is fixed or deleted.
 *
 * <p>Every operator replica runs this, because every replica serves discovery. Status is written only
 * when it differs from the stored one, with the object's resourceVersion: replicas derive the same status,
 * so the first write wins and the others find nothing to change.
 */
public final class GrpcRouteController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GrpcRouteController.class);
  private static final Comparator<GRPCRoute> PRECEDENCE = Comparator
      .comparing((GRPCRoute route) -> Objects.toString(route.getMetadata().getCreationTimestamp(), ""))
      .thenComparing(route -> route.getMetadata().getNamespace())
      .thenComparing(route -> route.getMetadata().getName());

  /** The rules one route gave one parent. */
  private record Contribution(String routeUid, ServiceKey parent) {}

  private final KubernetesClient client;
  private final RouteTables tables;
  private final RouteStatuses statuses;
  private final CoalescedPass passes = new CoalescedPass("grpc-routes", "grpc_routes_failed", this::reconcileAll);
  /** Touched only on the worker thread. */
  private Map<Contribution, List<RouteRule>> lastUsable = Map.of();
  private SharedIndexInformer<Service> services;
  private SharedIndexInformer<GRPCRoute> routes;

  public GrpcRouteController(KubernetesClient client, RouteTables tables, Clock clock) {
    this.client = client;
    this.tables = tables;
    this.statuses = new RouteStatuses(clock);
  }

  /**
   * Starts both informers without waiting: a cluster without the Gateway API CRDs keeps the operator
   * running, and the route informer retries until they are installed.
   */
  public void start() {
    services = client.services().inAnyNamespace().runnableInformer(0);
    routes = client.resources(GRPCRoute.class).inAnyNamespace().runnableInformer(0);
    for (SharedIndexInformer<? extends HasMetadata> informer : List.of(services, routes)) {
      informer.exceptionHandler((started, failure) -> {
        log.warn("event=grpc_route_informer_retry started={} error={}", started, failure.toString());
        return true;
      });
    }
    services.addEventHandler(passes.onEveryChange());
    routes.addEventHandler(passes.onEveryChange());
    // judged against a partial cache a backend could look missing, so the first pass waits for both syncs
    services.start().thenCombine(routes.start(), (a, b) -> true).thenRun(passes::schedule);
  }

  private void reconcileAll() {
    if (!services.hasSynced() || !routes.hasSynced()) {
      return;
    }
    GrpcRouteTranslator translator = new GrpcRouteTranslator(
        key -> services.getStore().getByKey(key.namespace() + "/" + key.name()) != null);
    Map<ServiceKey, List<RouteRule>> next = new LinkedHashMap<>();
    Map<Contribution, List<RouteRule>> usable = new HashMap<>();
    for (GRPCRoute route : routes.getStore().list().stream().sorted(PRECEDENCE).toList()) {
      List<RouteVerdict> verdicts = translator.translate(route);
      for (RouteVerdict verdict : verdicts) {
        Contribution contribution = new Contribution(route.getMetadata().getUid(), verdict.parent());
        List<RouteRule> rules = verdict.usable() ? verdict.rules()
            : lastUsable.getOrDefault(contribution, List.of());
        if (!rules.isEmpty()) {
          usable.put(contribution, rules);
          next.computeIfAbsent(verdict.parent(), parent -> new ArrayList<>()).addAll(rules);
        }
      }
      if (!verdicts.isEmpty()) {
        writeStatus(route, statuses.desired(route, verdicts));
      }
    }
    lastUsable = usable;
    Set<ServiceKey> parents = new HashSet<>(tables.services());
    parents.addAll(next.keySet());
    parents.forEach(parent -> tables.update(parent, next.getOrDefault(parent, List.of())));
  }

  private void writeStatus(GRPCRoute route, GRPCRouteStatus desired) {
    if (desired.equals(route.getStatus())) {
      return;
    }
    GRPCRoute changed = new GRPCRouteBuilder(route).withStatus(desired).build();
    try {
      client.resource(changed).updateStatus();
    } catch (KubernetesClientException e) {
      // a conflict means a newer route is on its way through the informer, which will schedule again
      log.info("event=grpc_route_status_not_written route={}/{} code={} error={}", route.getMetadata().getNamespace(),
          route.getMetadata().getName(), e.getCode(), e.getMessage());
    }
  }

  @Override
  public void close() {
    if (routes != null) {
      routes.close();
    }
    if (services != null) {
      services.close();
    }
    passes.close();
  }
}
