package io.taskmesh.sidecar.support;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.api.ListTasksRequest;
import io.taskmesh.taskservice.client.TaskClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Real parts on loopback, ephemeral ports: task-service backends, server sidecars in front of them and
 * client sidecars that reach them. Closes everything it started, newest first.
 */
public final class MeshFixture implements AutoCloseable {
  public static final String SERVICE = "task-service";

  private final List<AutoCloseable> started = new ArrayList<>();

  /** A task-service with its own in-memory database, so each backend's tasks tell who served what. */
  public TaskServer backend() {
    TaskServer server = TaskServer.start(TaskServerOptions.defaults().withPort(0).withBindAddress("127.0.0.1")
        .withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1"));
    started.add(server);
    return server;
  }

  /** The sidecar beside a backend: inbound to its app port. */
  public Sidecar serverSidecar(TaskServer app) {
    return serverSidecar(app.port());
  }

  public Sidecar serverSidecar(int appPort) {
    return sidecar(MeshConfigParser.parse("""
        service: %s
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        """.formatted(SERVICE, appPort)));
  }

  /** A caller's sidecar whose outbound defaults are the given YAML flow mapping, e.g. {@code {timeout: 1s}}. */
  public Sidecar callerWithDefaults(String defaults, int... upstreamPorts) {
    return sidecar(MeshConfigParser.parse(callerConfigYaml(defaults, upstreamPorts)));
  }

  /** The sidecar beside a caller: outbound to {@code task-service} at the given ports, round robin or P2C. */
  public Sidecar clientSidecar(String loadBalancer, int... upstreamPorts) {
    return sidecar(MeshConfigParser.parse(clientConfigYaml(loadBalancer, upstreamPorts)));
  }

  public static String clientConfigYaml(String loadBalancer, int... upstreamPorts) {
    return callerConfigYaml("{loadBalancer: " + loadBalancer + "}", upstreamPorts);
  }

  private static String callerConfigYaml(String defaults, int... upstreamPorts) {
    String endpoints = java.util.Arrays.stream(upstreamPorts).mapToObj(port -> "\"127.0.0.1:" + port + "\"")
        .collect(Collectors.joining(", "));
    return """
        service: caller
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery:
            static: {%s: [%s]}
          defaults: %s
        admin: {port: 0}
        """.formatted(SERVICE, endpoints, defaults);
  }

  /**
   * A caller's sidecar config (service {@code caller} in namespace {@code shop}) whose endpoints come from the
   * control plane at the given port; each of {@code outboundKeys} is one more key of its {@code outbound}
   * section, e.g. {@code "defaults: {timeout: 1s}"}.
   */
  public static String discoveringCallerYaml(int controlPlanePort, String... outboundKeys) {
    String more = java.util.Arrays.stream(outboundKeys).map(key -> "  " + key + "\n").collect(Collectors.joining());
    return """
        service: caller
        namespace: shop
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        %sadmin: {port: 0}
        """.formatted(controlPlanePort, more);
  }

  public Sidecar sidecar(MeshConfig config) {
    Sidecar sidecar = Sidecar.start(config, "127.0.0.1");
    started.add(sidecar);
    return sidecar;
  }

  /** A grpc-java client that names {@code task-service} and connects to the sidecar's outbound port. */
  public TaskClient clientThrough(Sidecar clientSidecar) {
    TaskClient client = TaskClient.connect("127.0.0.1:" + clientSidecar.outboundPort(), SERVICE, Duration.ofSeconds(10));
    started.add(client);
    return client;
  }

  /** A grpc-java channel to the sidecar's outbound port naming {@code authority}; shut down with the mesh. */
  public ManagedChannel channelThrough(Sidecar clientSidecar, String authority) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientSidecar.outboundPort())
        .overrideAuthority(authority).usePlaintext().build();
    started.add(() -> channel.shutdownNow());
    return channel;
  }

  public TaskClient directClient(TaskServer server) {
    TaskClient client = TaskClient.connect("127.0.0.1:" + server.port());
    started.add(client);
    return client;
  }

  /** How many tasks of a user one backend stores, read directly (no proxy): who served how many creates. */
  public static int tasksOn(TaskServer backend, int userId) {
    try (TaskClient direct = TaskClient.connect("127.0.0.1:" + backend.port())) {
      int total = 0;
      int page;
      do {
        page = direct.list(ListTasksRequest.newBuilder().setUserId(userId).setLimit(500).setOffset(total).build()).size();
        total += page;
      } while (page == 500);
      return total;
    }
  }

  public <T extends AutoCloseable> T closeLater(T resource) {
    started.add(resource);
    return resource;
  }

  @Override
  public void close() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    started.clear();
  }
}
