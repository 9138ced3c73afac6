package io.taskmesh.sidecar.gateway;

import io.taskmesh.config.GatewayConfig;
import io.taskmesh.config.ListenerBudgets;
import io.taskmesh.sidecar.listener.BudgetCounter;
import io.taskmesh.sidecar.overload.OverloadManager;
import io.taskmesh.sidecar.route.MethodCatalog;
import java.time.Duration;
import java.util.function.Function;

/**
 * What every gateway connection shares: routes, descriptors, the upstream channel, the per-client gate, the
 * budgets, metrics and the gateway's own status answers.
 *
 * @param config the gateway's config as started (body limits, correlation header)
 * @param budgets the gateway listener's budgets (its per-connection buffer cap)
 * @param methods which gRPC methods are streams, for plain gRPC calls
 * @param unaryTimeout a service's timeout for unary calls (server streams get none: a watch may last)
 */
record GatewayContext(
    GatewayRoutes routes,
    DescriptorSource descriptors,
    UpstreamCalls upstream,
    ClientAdmission admission,
    ClientAddresses clients,
    EdgeHeaders edgeHeaders,
    GatewayConfig config,
    ListenerBudgets budgets,
    BudgetCounter budgetCounter,
    OverloadManager overload,
    MethodCatalog methods,
    Function<String, Duration> unaryTimeout,
    GatewayMetrics metrics,
    GatewayStatus status) {

  String correlationHeader() {
    return config.correlationHeader();
  }
}
