package io.taskmesh.bench;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.taskmesh.bench.tls.BenchMesh;
import io.taskmesh.e2e.local.FreePorts;
import io.taskmesh.e2e.local.Readiness;
import io.taskmesh.sidecar.identity.MeshTls;
import io.taskmesh.taskservice.api.GetTaskRequest;
import io.taskmesh.taskservice.api.TaskServiceGrpc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The paths with TLS between the two proxies, each client → (plaintext h2c) outbound hop → (TLS 1.3, ALPN h2,
 * client certificates both ways) inbound hop → (plaintext h2c) task service, as in a meshed pod:
 * <ul>
 *   <li>{@code taskmesh-mtls}: the sidecar pair with its default TLS engine (BoringSSL), certificates from the
 *       operator's issuer and the server's identity from discovery, as in a cluster;
 *   <li>{@code taskmesh-mtls-jdk}: the same with the JDK's TLS ({@code -Dtaskmesh.tls.engine=jdk});
 *   <li>{@code taskmesh-mtls-<variant>}: the default engine, the sidecars run as a {@link SidecarVariant} says;
 *   <li>{@code haproxy-tls}: the haproxy pair with the same kind of certificates from the same issuer, each side
 *       verifying the other's chain against the same root.
 * </ul>
 * The control plane ({@link BenchMesh}) starts with the first TLS path asked for, in the bench's process.
 */
public final class TlsTopologies implements AutoCloseable {
  private static final String HAPROXY_TLS = "ssl crt %s ca-file %s verify required alpn h2 ssl-min-ver TLSv1.3";
  private final Topologies plain;
  private final Path workDir;
  private final int appPort;
  private BenchMesh mesh;

  public TlsTopologies(Topologies plain, Path workDir, int appPort) {
    this.plain = plain;
    this.workDir = workDir;
    this.appPort = appPort;
  }

  public Topology taskmeshMtls() {
    return taskmeshMtls("taskmesh-mtls", SidecarVariant.DEPLOYED);
  }

  /** {@link #taskmeshMtls()} run as {@code variant} says, under the path name {@code path} (its sidecars' names prefixed). */
  public Topology taskmeshMtls(String path, SidecarVariant variant) {
    return taskmesh(path, "boringssl", List.of(), variant);
  }

  public Topology taskmeshMtlsJdk() {
    return taskmesh("taskmesh-mtls-jdk", "jdk", List.of("-D" + MeshTls.ENGINE_PROPERTY + "=jdk"),
        SidecarVariant.DEPLOYED);
  }

  private Topology taskmesh(String name, String engine, List<String> properties, SidecarVariant variant) {
    String prefix = variant.equals(SidecarVariant.DEPLOYED) ? "" : name + "-"; // a variant's logs and profiles apart
    BenchMesh mesh = mesh();
    int inbound = FreePorts.next();
    int serverAdmin = FreePorts.next();
    int outbound = FreePorts.next();
    int clientAdmin = FreePorts.next();
    // ready: the server sidecar has its certificate and its app answers; the client sidecar (no local app) has
    // its listeners bound, and then a first call through the pair proves its certificate and discovery are in
    Topologies.Started server = plain.sidecar(prefix + "server-sidecar", """
        service: task-service
        namespace: %s
        inbound: {port: %d, appPort: %d}
        outbound: {port: %d}
        admin: {port: %d}
        identity: %s
        """.formatted(BenchMesh.NAMESPACE, inbound, appPort, FreePorts.next(), serverAdmin,
        identity(mesh, "task-service")), serverAdmin, "/ready", properties, variant);
    mesh.announce("task-service", inbound, "task-service");
    Topologies.Started client = Topologies.startOrStop(server.process(), () -> plain.sidecar(prefix + "client-sidecar", """
        service: bench-client
        namespace: %s
        inbound: {port: %d, appPort: 1}
        outbound: {port: %d, discovery: {address: "localhost:%d"}}
        admin: {port: %d}
        identity: %s
        """.formatted(BenchMesh.NAMESPACE, FreePorts.next(), outbound, mesh.discoveryPort(), clientAdmin,
        identity(mesh, "bench-client")), clientAdmin, "/healthz", properties, variant));
    Topology topology = new Topologies.Simple(name, "127.0.0.1:" + outbound, "task-service",
        List.of(client.process().pid(), server.process().pid()),
        List.of(client.startToReadyMillis(), server.startToReadyMillis()), () -> {
          client.process().close();
          server.process().close();
        });
    ready(topology);
    try {
      checkMutualTls(server, serverAdmin, client, clientAdmin, engine);
    } catch (RuntimeException e) {
      topology.close();
      throw e;
    }
    return topology;
  }

  /**
   * Fails unless the first call went over mTLS with {@code engine}: both sidecars name it in their log, the
   * server counted a TLS connection and none in plaintext, the client no plaintext upstream connection.
   */
  private static void checkMutualTls(Topologies.Started server, int serverAdmin, Topologies.Started client,
      int clientAdmin, String engine) {
    for (Topologies.Started sidecar : List.of(server, client)) {
      String log = read(sidecar.process().log());
      if (!log.contains("event=tls_engine engine=" + engine)) {
        throw new IllegalStateException(sidecar.process().name() + " does not run TLS engine " + engine + "; see "
            + sidecar.process().log());
      }
    }
    double tls = metric(serverAdmin, "taskmesh_inbound_connections_total{outcome=\"tls\"");
    double plaintext = metric(serverAdmin, "taskmesh_inbound_connections_total{outcome=\"plaintext_accepted\"")
        + metric(clientAdmin, "taskmesh_plaintext_upstream_connections_total");
    if (tls < 1 || plaintext > 0) {
      throw new IllegalStateException("the sidecar pair is not on mTLS: " + tls + " TLS and " + plaintext
          + " plaintext connections between them");
    }
  }

  /** The sum of a metric's samples (lines starting with {@code prefix}) on a sidecar's admin /metrics. */
  private static double metric(int adminPort, String prefix) {
    return Readiness.get(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).lines()
        .filter(line -> line.startsWith(prefix))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Topology haproxyTls() {
    BenchMesh mesh = mesh();
    Path serverCertificate = certificate(mesh, "task-service");
    Path clientCertificate = certificate(mesh, "bench-client");
    int inbound = FreePorts.next();
    int outbound = FreePorts.next();
    PeerProxy server = PeerProxy.haproxy(workDir.resolve("haproxy-tls-in"), inbound,
        HAPROXY_TLS.formatted(serverCertificate, mesh.bundle()), appPort, "proto h2");
    PeerProxy client = Topologies.startOrStop(server, () -> PeerProxy.haproxy(workDir.resolve("haproxy-tls-out"),
        outbound, "proto h2", inbound, HAPROXY_TLS.formatted(clientCertificate, mesh.bundle())));
    Topology topology = new Topologies.Simple("haproxy-tls", "127.0.0.1:" + outbound, null,
        List.of(client.pid(), server.pid()), List.of(client.startToReadyMillis(), server.startToReadyMillis()), () -> {
          client.close();
          server.close();
        });
    return ready(topology);
  }

  /** {@code topology} once a first call got through it; stopped if none did. */
  private static Topology ready(Topology topology) {
    try {
      awaitFirstCall(topology);
      return topology;
    } catch (RuntimeException e) {
      topology.close();
      throw e;
    }
  }

  /**
   * Polls (at most 60 s) until a call through {@code topology} is answered by the task service itself: OK, or
   * NOT_FOUND for a task that does not exist. A proxy's own refusal (no certificate yet, no endpoint) is retried.
   */
  private static void awaitFirstCall(Topology topology) {
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(topology.target()).usePlaintext();
    if (topology.authority() != null) {
      builder.overrideAuthority(topology.authority());
    }
    ManagedChannel channel = builder.build();
    try {
      long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      StatusRuntimeException last = null;
      while (System.nanoTime() < giveUp) {
        try {
          TaskServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
              .getTask(GetTaskRequest.newBuilder().setId(Integer.MAX_VALUE).build());
          return;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
            return;
          }
          last = e;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
      }
      throw new IllegalStateException(topology.name() + ": no call got through to the task service in 60 s; last: "
          + (last == null ? "none" : last.getStatus()));
    } finally {
      channel.shutdownNow();
    }
  }

  private BenchMesh mesh() {
    if (mesh == null) {
      try {
        mesh = BenchMesh.start(workDir.resolve("mesh"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return mesh;
  }

  private static String identity(BenchMesh mesh, String serviceAccount) {
    try {
      return mesh.identitySection(serviceAccount, "permissive");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path certificate(BenchMesh mesh, String serviceAccount) {
    try {
      return mesh.certificateFile(serviceAccount);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (mesh != null) {
      mesh.close();
    }
  }
}
