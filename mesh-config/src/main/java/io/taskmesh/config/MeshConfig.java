package io.taskmesh.config;

import java.util.Objects;

/**
 * Everything one proxy needs to run: who it is, its inbound and outbound sides, tracing, admin, drain
 * and, when it is the mesh's ingress, the gateway. Built by {@link MeshConfigParser}, written back by
 * {@link MeshConfigWriter}.
 *
 * @param gateway {@code null} unless the proxy runs as the ingress gateway
 * @param accessLog whether and how much the proxy logs one line per request
 * @param budgets what each listener lets its clients hold (connections, streams, buffers, timeouts)
 * @param overload when the proxy refuses new streams to protect its memory and event loops
 * @param identity the workload certificate and mTLS mode ({@link IdentityConfig#OFF}: plaintext)
 */
public record MeshConfig(
    String service,
    String namespace,
    InboundConfig inbound,
    OutboundConfig outbound,
    TracingConfig tracing,
    AdminConfig admin,
    DrainConfig drain,
    GatewayConfig gateway,
    AccessLogConfig accessLog,
    BudgetsConfig budgets,
    OverloadConfig overload,
    IdentityConfig identity) {

  public MeshConfig {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(inbound, "inbound");
    Objects.requireNonNull(outbound, "outbound");
    Objects.requireNonNull(tracing, "tracing");
    Objects.requireNonNull(admin, "admin");
    Objects.requireNonNull(drain, "drain");
    Objects.requireNonNull(accessLog, "accessLog");
    Objects.requireNonNull(budgets, "budgets");
    Objects.requireNonNull(overload, "overload");
    Objects.requireNonNull(identity, "identity");
  }

  /** A config without an identity section: no certificate, plaintext. */
  public MeshConfig(String service, String namespace, InboundConfig inbound, OutboundConfig outbound,
      TracingConfig tracing, AdminConfig admin, DrainConfig drain, GatewayConfig gateway, AccessLogConfig accessLog,
      BudgetsConfig budgets, OverloadConfig overload) {
    this(service, namespace, inbound, outbound, tracing, admin, drain, gateway, accessLog, budgets, overload,
        IdentityConfig.OFF);
  }

  /** A config with only an access log section of the optional ones: the others' defaults apply. */
  public MeshConfig(String service, String namespace, InboundConfig inbound, OutboundConfig outbound,
      TracingConfig tracing, AdminConfig admin, DrainConfig drain, GatewayConfig gateway, AccessLogConfig accessLog) {
    this(service, namespace, inbound, outbound, tracing, admin, drain, gateway, accessLog, BudgetsConfig.DEFAULT,
        OverloadConfig.DEFAULT);
  }

  /** A config without access log, budgets or overload sections: their defaults apply. */
  public MeshConfig(String service, String namespace, InboundConfig inbound, OutboundConfig outbound,
      TracingConfig tracing, AdminConfig admin, DrainConfig drain, GatewayConfig gateway) {
    this(service, namespace, inbound, outbound, tracing, admin, drain, gateway, AccessLogConfig.DEFAULT,
        BudgetsConfig.DEFAULT, OverloadConfig.DEFAULT);
  }

  /** A complete config for {@code service} in namespace {@code default} with every default (sidecar/README.md lists them). */
  public static MeshConfig defaults(String service) {
    return MeshConfigParser.parse("service: " + service + "\n");
  }

  public boolean isGateway() {
    return gateway != null;
  }
}
