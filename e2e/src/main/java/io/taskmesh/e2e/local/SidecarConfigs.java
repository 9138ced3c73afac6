package io.taskmesh.e2e.local;

import io.taskmesh.config.MeshConfigParser;

/** The proxy configs of the local mesh, checked by the same parser the sidecar uses before they are written. */
final class SidecarConfigs {
  static final String SERVICE = "task-service";
  static final String CLIENT = "task-cli";
  /** Each replica's inbound token bucket: far above what the demo's steps send, except the one that tests it. */
  static final int RATE_LIMIT_PER_SECOND = 200;
  static final int RATE_LIMIT_BURST = 100;

  private SidecarConfigs() {}

  /** The sidecar beside a task-service replica: inbound to its app, rate limited, traced when Zipkin runs. */
  static String replica(PodPorts ports, Integer zipkinPort) {
    return checked("""
        service: %s
        inbound: {port: %d, appPort: %d, rateLimit: {requestsPerSecond: %d, burst: %d}}
        outbound: {port: %d}
        admin: {port: %d}
        drain: {timeout: 5s}
        %s""".formatted(SERVICE, ports.inbound(), ports.app(), RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST, ports.outbound(),
        ports.admin(), tracing(zipkinPort)));
  }

  /**
   * The sidecar beside the client: endpoints of task-service from the discovery server, and a circuit
   * breaker quick enough to watch open and close within the demo.
   */
  static String client(PodPorts ports, int discoveryPort, Integer zipkinPort) {
    return checked("""
        service: %s
        inbound: {port: %d, appPort: 1}
        outbound:
          port: %d
          discovery: {address: "127.0.0.1:%d"}
          upstreams:
            %s:
              circuitBreaker: {failureRateThreshold: 50, minimumCalls: 10, slidingWindow: 20, waitInOpen: 3s, permittedInHalfOpen: 3}
        admin: {port: %d}
        drain: {timeout: 5s}
        %s""".formatted(CLIENT, ports.inbound(), ports.outbound(), discoveryPort, SERVICE, ports.admin(),
        tracing(zipkinPort)));
  }

  /**
   * The mesh's ingress gateway: the same proxy with a {@code gateway:} section, REST/JSON under /api/tasks
   * transcoded to task-service's gRPC (descriptors from its server reflection), endpoints from discovery.
   */
  static String gateway(PodPorts ports, int gatewayPort, int discoveryPort, Integer zipkinPort) {
    return checked("""
        service: gateway
        inbound: {port: %d, appPort: 1}
        outbound:
          port: %d
          discovery: {address: "127.0.0.1:%d"}
          upstreams: {%s: {}}
        admin: {port: %d}
        drain: {timeout: 5s}
        gateway:
          port: %d
          routes:
            - {pathPrefix: /api/tasks, service: %s, transcode: true}
          clientRateLimit: {requestsPerMinute: 100}
        %s""".formatted(ports.inbound(), ports.outbound(), discoveryPort, SERVICE, ports.admin(), gatewayPort,
        SERVICE, tracing(zipkinPort)));
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
