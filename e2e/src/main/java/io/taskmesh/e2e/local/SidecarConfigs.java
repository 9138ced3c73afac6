package io.taskmesh.e2e.local;

import io.taskmesh.config.MeshConfigParser;
import java.util.List;
import java.util.stream.Collectors;

/** The proxy configs of the local mesh, checked by the same parser the sidecar uses before they are written. */
final class SidecarConfigs {
  static final String SERVICE = "task-service";
  static final String CLIENT = "task-cli";

  private SidecarConfigs() {}

  /** The sidecar beside a task-service replica: inbound to its app, traced when Zipkin runs. */
  static String replica(PodPorts ports, Integer zipkinPort) {
    return checked("""
        service: %s
        inbound: {port: %d, appPort: %d}
        outbound: {port: %d}
        admin: {port: %d}
        drain: {timeout: 5s}
        %s""".formatted(SERVICE, ports.inbound(), ports.app(), ports.outbound(), ports.admin(), tracing(zipkinPort)));
  }

  /** The sidecar beside the client: outbound to every replica's inbound port. */
  static String client(PodPorts ports, List<PodPorts> replicas, Integer zipkinPort) {
    String endpoints = replicas.stream().map(r -> "\"127.0.0.1:" + r.inbound() + "\"")
        .collect(Collectors.joining(", ", "[", "]"));
    return checked("""
        service: %s
        inbound: {port: %d, appPort: 1}
        outbound:
          port: %d
          discovery: {static: {%s: %s}}
        admin: {port: %d}
        drain: {timeout: 5s}
        %s""".formatted(CLIENT, ports.inbound(), ports.outbound(), SERVICE, endpoints, ports.admin(), tracing(zipkinPort)));
  }

  private static String tracing(Integer zipkinPort) {
    return zipkinPort == null ? ""
        : "tracing: {exporter: zipkin, endpoint: \"http://127.0.0.1:" + zipkinPort + "\", samplingRatio: 1.0}\n";
  }

  private static String checked(String yaml) {
    MeshConfigParser.parse(yaml);
    return yaml;
  }
}
