package io.taskmesh.e2e.local;

import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.e2e.zipkin.ZipkinServer;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * taskmesh on one machine: task-service replicas sharing one PostgreSQL, a sidecar beside each, a client
 * sidecar in front of them that learns the replicas from the operator's discovery server (fed here by a
 * static endpoint source instead of EndpointSlices), and Zipkin when tracing is asked for. Every app and
 * sidecar is a real process; closing the mesh stops them all.
 */
public final class LocalMesh implements AutoCloseable {
  private static final Duration START_BOUND = Duration.ofSeconds(120);

  /**
   * @param fixedPorts the readable layout of {@link PodPorts#fixed} (for people); otherwise free ports (for tests)
   * @param zipkinJar {@code null} for no tracing
   * @param otelAgentDir holds {@code opentelemetry-javaagent.jar} and {@code taskmesh-tracing.jar} (its Zipkin
   *     exporter): the apps run with the agent when tracing is on
   */
  public record Options(int replicas, boolean fixedPorts, Path zipkinJar, Path otelAgentDir, Path workDir,
      String classpath) {}

  /** One task-service pod: its app and its sidecar. */
  public record Replica(int index, PodPorts ports, ChildProcess app, ChildProcess sidecar) {}

  private final Options options;
  private final Consumer<String> progress;
  private final List<AutoCloseable> started = new ArrayList<>();
  private final List<Replica> replicas = new ArrayList<>();
  private final EndpointRegistry endpoints = new EndpointRegistry();
  private EmbeddedPostgres postgres;
  private DiscoveryServer discovery;
  private ZipkinServer zipkin;
  private PodPorts clientPorts;
  private ChildProcess clientSidecar;
  private PodPorts gatewayPorts;
  private int gatewayPort;
  private ChildProcess gateway;

  private LocalMesh(Options options, Consumer<String> progress) {
    this.options = options;
    this.progress = progress;
  }

  public static LocalMesh start(Options options, Consumer<String> progress) {
    LocalMesh mesh = new LocalMesh(options, progress);
    try {
      mesh.startAll();
      return mesh;
    } catch (RuntimeException e) {
      mesh.close();
      throw e;
    }
  }

  private void startAll() {
    progress.accept("starting PostgreSQL (the store the replicas share)");
    postgres = startPostgres();
    if (options.zipkinJar() != null) {
      int port = options.fixedPorts() ? 9411 : FreePorts.next();
      progress.accept("starting Zipkin on 127.0.0.1:" + port);
      zipkin = ZipkinServer.start(options.zipkinJar(), port, options.workDir().resolve("zipkin.log"), START_BOUND);
      started.add(zipkin);
    }
    for (int i = 1; i <= options.replicas(); i++) {
      replicas.add(startReplica(i));
    }
    discovery = DiscoveryServer.start("127.0.0.1", options.fixedPorts() ? 15010 : FreePorts.next(), endpoints);
    started.add(discovery);
    endpoints.update(new ServiceKey(SidecarConfigs.SERVICE, "default"), replicas.stream()
        .map(replica -> Endpoint.newBuilder().setAddress("127.0.0.1").setPort(replica.ports().inbound())
            .setReady(true).setPodName("task-service-" + replica.index()).build())
        .toList());
    progress.accept("discovery server on 127.0.0.1:" + discovery.port() + " knows " + replicas.size()
        + " task-service endpoints");
    clientPorts = options.fixedPorts() ? PodPorts.fixed(0) : PodPorts.ephemeral(false);
    progress.accept("starting the client sidecar (outbound 127.0.0.1:" + clientPorts.outbound() + ")");
    clientSidecar = startSidecar("client-sidecar",
        SidecarConfigs.client(clientPorts, discovery.port(), zipkinPort()));
    gatewayPorts = options.fixedPorts() ? PodPorts.fixed(9) : PodPorts.ephemeral(false);
    gatewayPort = options.fixedPorts() ? 8080 : FreePorts.next();
    progress.accept("starting the gateway (HTTP/JSON and gRPC on 127.0.0.1:" + gatewayPort + ")");
    gateway = startSidecar("gateway",
        SidecarConfigs.gateway(gatewayPorts, gatewayPort, discovery.port(), zipkinPort()));
    for (Replica replica : replicas) {
      awaitReady(replica.sidecar(), replica.ports().admin(), "/ready");
    }
    awaitReady(clientSidecar, clientPorts.admin(), "/healthz");
    awaitReady(gateway, gatewayPorts.admin(), "/ready");
    Readiness.await("the gateway listens on " + gatewayPort, START_BOUND, children(),
        () -> Readiness.listening(gatewayPort));
    Readiness.await("the client sidecar listens on " + clientPorts.outbound(), START_BOUND, children(),
        () -> Readiness.listening(clientPorts.outbound()));
  }

  private Replica startReplica(int index) {
    PodPorts ports = options.fixedPorts() ? PodPorts.fixed(index) : PodPorts.ephemeral(true);
    progress.accept("starting task-service replica " + index + " (app 127.0.0.1:" + ports.app()
        + ", sidecar inbound " + ports.inbound() + ", admin " + ports.admin() + ")");
    ChildProcess app = startApp(index, ports);
    ChildProcess sidecar = startSidecar("sidecar-" + index, SidecarConfigs.replica(ports, zipkinPort()));
    return new Replica(index, ports, app, sidecar);
  }

  private ChildProcess startApp(int index, PodPorts ports) {
    ChildProcess app = ChildProcess.startJava("task-service-" + index, appJvmFlags(), options.classpath(),
        "io.taskmesh.taskservice.Main",
        List.of("--port", Integer.toString(ports.app()), "--bind", "127.0.0.1",
            "--database-url", postgres.getJdbcUrl("postgres", "postgres"), "--shutdown-grace-seconds", "5"),
        appTracing(), options.workDir().resolve("task-service-" + index + ".log"));
    started.add(app);
    return app;
  }

  /**
   * The app knows nothing of tracing: it runs with the OpenTelemetry javaagent, as apps in a mesh usually
   * do, which records its gRPC and JDBC spans and sends them to the same Zipkin as the sidecars'.
   */
  private List<String> appJvmFlags() {
    if (zipkin == null) {
      return ChildProcess.SMALL_JVM;
    }
    List<String> flags = new ArrayList<>(ChildProcess.SMALL_JVM);
    flags.add("-javaagent:" + options.otelAgentDir().resolve("opentelemetry-javaagent.jar").toAbsolutePath());
    flags.add("-Dotel.javaagent.extensions=" + options.otelAgentDir().resolve("taskmesh-tracing.jar").toAbsolutePath());
    return flags;
  }

  private Map<String, String> appTracing() {
    return zipkin == null ? Map.of() : Map.of(
        "OTEL_TRACES_EXPORTER", "zipkin",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT", "http://127.0.0.1:" + zipkin.port() + "/api/v2/spans",
        "OTEL_SERVICE_NAME", SidecarConfigs.SERVICE,
        "OTEL_BSP_SCHEDULE_DELAY", "500",
        "OTEL_METRICS_EXPORTER", "none",
        "OTEL_LOGS_EXPORTER", "none");
  }

  private ChildProcess startSidecar(String name, String config) {
    Path file = write(options.workDir().resolve(name + ".yaml"), config);
    ChildProcess sidecar = ChildProcess.startJava(name, ChildProcess.SMALL_JVM, options.classpath(), "io.taskmesh.sidecar.Main",
        List.of("--config", file.toString()),
        Map.of("TASKMESH_CONFIG", file.toString(), "TASKMESH_BIND_ADDRESS", "127.0.0.1"),
        options.workDir().resolve(name + ".log"));
    started.add(sidecar);
    return sidecar;
  }

  private void awaitReady(ChildProcess sidecar, int adminPort, String path) {
    URI uri = URI.create("http://127.0.0.1:" + adminPort + path);
    Readiness.await(sidecar.name() + " answers " + uri, START_BOUND, children(), () -> Readiness.answers200(uri));
  }

  /** Every child process started so far: any of them exiting stops the start-up (not for later restarts). */
  private List<ChildProcess> children() {
    return started.stream().filter(ChildProcess.class::isInstance).map(ChildProcess.class::cast).toList();
  }

  /** Where an app in the client pod sends its calls (with authority {@code task-service}). */
  public String outboundTarget() {
    return "127.0.0.1:" + clientPorts.outbound();
  }

  /** The gateway's HTTP/JSON and gRPC listener, e.g. {@code http://127.0.0.1:8080}. */
  public URI gatewayUri() {
    return URI.create("http://127.0.0.1:" + gatewayPort);
  }

  public URI gatewayAdmin() {
    return URI.create("http://127.0.0.1:" + gatewayPorts.admin());
  }

  public URI clientAdmin() {
    return URI.create("http://127.0.0.1:" + clientPorts.admin());
  }

  public List<Replica> replicas() {
    return List.copyOf(replicas);
  }

  public ZipkinServer zipkin() {
    return zipkin;
  }

  public int discoveryPort() {
    return discovery.port();
  }

  public String databaseUrl() {
    return postgres.getJdbcUrl("postgres", "postgres");
  }

  /** The whole pod dies at once (app and sidecar), as when a node fails. */
  public void killReplica(int index) {
    Replica replica = replicas.get(index - 1);
    replica.app().kill();
    replica.sidecar().kill();
  }

  /** Every replica's app stops while the sidecars stay: the whole service is out. */
  public void stopAllApps() {
    replicas.forEach(replica -> replica.app().kill());
  }

  /** Starts every stopped app again on its old port. */
  public void restartStoppedApps() {
    for (int i = 0; i < replicas.size(); i++) {
      Replica replica = replicas.get(i);
      if (!replica.app().isAlive()) {
        ChildProcess app = startApp(replica.index(), replica.ports());
        replicas.set(i, new Replica(replica.index(), replica.ports(), app, replica.sidecar()));
        Readiness.await("task-service-" + replica.index() + " listens", START_BOUND, List.of(app),
            () -> Readiness.listening(replica.ports().app()));
      }
    }
  }

  private Integer zipkinPort() {
    return zipkin == null ? null : zipkin.port();
  }

  private EmbeddedPostgres startPostgres() {
    try {
      EmbeddedPostgres started = EmbeddedPostgres.builder()
          .setPort(options.fixedPorts() ? 15432 : FreePorts.next())
          .setDataDirectory(options.workDir().resolve("postgres"))
          .setCleanDataDirectory(true)
          .start();
      this.started.add(started);
      return started;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
    }
  }

  private static Path write(Path file, String content) {
    try {
      return Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops everything that was started, newest first. */
  @Override
  public void close() {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        progress.accept("could not stop a part of the mesh cleanly: " + e.getMessage());
      }
    }
    started.clear();
  }
}
