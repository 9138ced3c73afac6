package io.taskmesh.e2e.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.taskmesh.config.IdentityConfig;
import io.taskmesh.config.IdentityMode;
import io.taskmesh.config.MeshConfig;
import io.taskmesh.config.MeshConfigParser;
import io.taskmesh.discovery.v1.Endpoint;
import io.taskmesh.identity.SpiffeId;
import io.taskmesh.operator.discovery.DiscoveryServer;
import io.taskmesh.operator.discovery.EndpointRegistry;
import io.taskmesh.operator.discovery.ServiceKey;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.Sidecar;
import io.taskmesh.sidecar.filter.AccessLogFilter;
import io.taskmesh.sidecar.identity.WorkloadCertificate;
import io.taskmesh.sidecar.identity.WorkloadIdentity;
import io.taskmesh.taskservice.TaskServer;
import io.taskmesh.taskservice.TaskServerOptions;
import io.taskmesh.taskservice.client.TaskClient;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Two real sidecars certified by the operator's real issuer, on 127.0.0.1: the caller's sidecar learns the
 * server's endpoint and identity from the operator's discovery server and calls it over mTLS; the server's
 * sidecar proves who called and passes the call to a real task service. What is refused is refused on the wire.
 */
class MutualTlsTrafficTest {
  private static final String NAMESPACE = "shop";
  private static final SpiffeId FRONTEND = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "frontend");
  private static final SpiffeId TASKS = new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "task-service");
  private static final Duration BOUND = Duration.ofSeconds(60);

  @TempDir
  Path dir;
  private final List<AutoCloseable> started = new ArrayList<>();
  private final Logger accessLogger = (Logger) LoggerFactory.getLogger(AccessLogFilter.LOGGER);
  private final ListAppender<ILoggingEvent> accessLines = new ListAppender<>();
  private final EndpointRegistry endpoints = new EndpointRegistry();
  private MeshIssuer issuer;
  private DiscoveryServer discovery;

  @AfterEach
  void stop() throws Exception {
    accessLogger.detachAppender(accessLines);
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
  }

  @Test
  void callsBetweenTwoSidecarsRunOverMutualTlsAndTheServerKnowsWhoCalled() throws Exception {
    startMesh();
    Sidecar server = serverSidecar(IdentityMode.PERMISSIVE, Duration.ofHours(1));
    announce(server, TASKS.uri());
    Sidecar caller = callerSidecar(Duration.ofHours(1));
    accessLines.start();
    accessLogger.addAppender(accessLines);

    TaskClient tasks = closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(), "task-service", BOUND));
    for (int i = 0; i < 50; i++) {
      tasks.create("over mtls " + i, "", "low", 1);
    }

    assertThat(metric(server, "taskmesh_inbound_connections_total{outcome=\"tls\"")).isGreaterThanOrEqualTo(1);
    assertThat(metric(caller, "taskmesh_plaintext_upstream_connections_total")).isZero();
    await().atMost(BOUND).until(() -> inboundLines().size() >= 50);
    assertThat(inboundLines()).allSatisfy(line -> assertThat(line).contains(" peer=" + FRONTEND.uri()));
  }

  @Test
  void rotatingShortLivedCertificatesUnderContinuousTrafficFailsNoCallAndNewHandshakesUseTheNewOnes()
      throws Exception {
    startMesh();
    // renewed every 10 s, leaving 5 s for the issuer to answer on a busy machine
    Duration lifetime = Duration.ofSeconds(15);
    Sidecar server = serverSidecar(IdentityMode.STRICT, lifetime);
    announce(server, TASKS.uri());
    Sidecar caller = callerSidecar(lifetime);
    WorkloadIdentity serverIdentity = server.identity().orElseThrow();
    WorkloadCertificate first = serverIdentity.contexts().current().orElseThrow().certificate();
    TaskClient tasks = closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(), "task-service", BOUND));

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger calls = new AtomicInteger();
    Set<BigInteger> serverSerials = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<BigInteger> callerSerials = java.util.concurrent.ConcurrentHashMap.newKeySet();
    long startNanos = System.nanoTime();
    ExecutorService load = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      workers.add(load.submit(() -> {
        while (running.get() && calls.get() < 200_000) {
          tasks.create("rotation", "", "low", 1); // a failed call throws and ends this worker
          calls.incrementAndGet();
        }
        return null;
      }));
    }
    try {
      // three certificates each, and the first one expired, while calls keep going; then more calls
      await().atMost(BOUND.multipliedBy(2)).until(() -> {
        serverSerials.add(serial(server));
        callerSerials.add(serial(caller));
        return (serverSerials.size() >= 3 && callerSerials.size() >= 3 && Instant.now().isAfter(first.notAfter()))
            || workers.stream().anyMatch(Future::isDone);
      });
      int afterExpiry = calls.get();
      await().atMost(BOUND).until(() -> calls.get() >= afterExpiry + 20 || workers.stream().anyMatch(Future::isDone));
    } finally {
      running.set(false);
      load.shutdown();
    }
    for (Future<?> worker : workers) {
      worker.get(30, TimeUnit.SECONDS); // rethrows the first failed call, if any
    }
    long elapsedSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    System.out.printf("MutualTlsTrafficTest: %d calls, none failed, while the server used %d and the caller %d "
        + "certificates of %ds in %ds%n", calls.get(), serverSerials.size(), callerSerials.size(), lifetime.toSeconds(),
        elapsedSeconds);
    assertThat(serverSerials).hasSizeGreaterThanOrEqualTo(3)
        .as("renewed every 10 s, not sooner").hasSizeLessThanOrEqualTo((int) (elapsedSeconds / 10) + 2);
    assertThat(callerSerials).hasSizeGreaterThanOrEqualTo(3).hasSizeLessThanOrEqualTo((int) (elapsedSeconds / 10) + 2);

    // a handshake now meets the server's current certificate, not the expired first one
    X509Certificate presented = handshake(caller.identity().orElseThrow(), server.inboundPort());
    assertThat(presented.getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber())
        .isEqualTo(serverIdentity.contexts().current().orElseThrow().certificate().leaf().getSerialNumber());
    tasks.create("after rotation", "", "low", 1);
  }

  @Test
  void strictModeRefusesPlaintextAndStillServesTheMesh() throws Exception {
    startMesh();
    Sidecar server = serverSidecar(IdentityMode.STRICT, Duration.ofHours(1));
    announce(server, TASKS.uri());
    Sidecar caller = callerSidecar(Duration.ofHours(1));

    try (TaskClient plaintext = TaskClient.connect("127.0.0.1:" + server.inboundPort(), "task-service",
        Duration.ofSeconds(10))) {
      StatusRuntimeException refused = catchThrowableOfType(() -> plaintext.create("plain", "", "low", 1),
          StatusRuntimeException.class);
      assertThat(refused).as("a plaintext call to a strict sidecar").isNotNull();
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
    assertThat(metric(server, "taskmesh_inbound_connections_total{outcome=\"plaintext_refused\""))
        .isGreaterThanOrEqualTo(1);
    TaskClient tasks = closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(), "task-service", BOUND));
    assertThat(tasks.create("through the mesh", "", "low", 1).getTitle()).isEqualTo("through the mesh");
  }

  @Test
  void anEndpointThatCannotProveTheIdentityDiscoveryAnnouncedGetsNoCall() throws Exception {
    startMesh();
    Sidecar server = serverSidecar(IdentityMode.PERMISSIVE, Duration.ofHours(1));
    announce(server, new SpiffeId(MeshIssuer.TRUST_DOMAIN, NAMESPACE, "billing").uri());
    Sidecar caller = callerSidecar(Duration.ofHours(1));
    accessLines.start();
    accessLogger.addAppender(accessLines);

    TaskClient tasks = closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(), "task-service",
        Duration.ofSeconds(10)));
    StatusRuntimeException refused = catchThrowableOfType(() -> tasks.create("to an impostor", "", "low", 1),
        StatusRuntimeException.class);
    assertThat(refused).isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(inboundLines()).as("nothing reached the server's app").isEmpty();
  }

  @Test
  void anUnmeshedEndpointIsCalledInPlaintextAndCounted() throws Exception {
    startMesh();
    TaskServer unmeshed = closeLater(app());
    endpoints.update(new ServiceKey("task-service", NAMESPACE), List.of(endpoint(unmeshed.port(), "pod-without-sidecar")));
    Sidecar caller = callerSidecar(Duration.ofHours(1));

    TaskClient tasks = closeLater(TaskClient.connect("127.0.0.1:" + caller.outboundPort(), "task-service", BOUND));
    assertThat(tasks.create("plaintext upstream", "", "low", 1).getTitle()).isEqualTo("plaintext upstream");
    assertThat(metric(caller, "taskmesh_plaintext_upstream_connections_total")).isGreaterThanOrEqualTo(1);
  }

  private void startMesh() throws Exception {
    issuer = closeLater(new MeshIssuer(dir));
    discovery = closeLater(DiscoveryServer.start("127.0.0.1", 0, endpoints));
  }

  private Sidecar serverSidecar(IdentityMode mode, Duration lifetime) throws Exception {
    TaskServer app = closeLater(app());
    return started(withIdentity(MeshConfigParser.parse("""
        service: task-service
        namespace: %s
        inbound: {port: 0, appPort: %d}
        outbound: {port: 0}
        admin: {port: 0}
        accessLog: {enabled: true}
        """.formatted(NAMESPACE, app.port())), mode, TASKS, lifetime));
  }

  private Sidecar callerSidecar(Duration lifetime) throws Exception {
    return started(withIdentity(MeshConfigParser.parse("""
        service: frontend
        namespace: %s
        inbound: {port: 0, appPort: 1}
        outbound:
          port: 0
          discovery: {address: "127.0.0.1:%d"}
        admin: {port: 0}
        """.formatted(NAMESPACE, discovery.port())), IdentityMode.PERMISSIVE, FRONTEND, lifetime));
  }

  /** The config's identity section, built directly: the parser keeps lifetimes at 10 minutes or more. */
  private MeshConfig withIdentity(MeshConfig config, IdentityMode mode, SpiffeId id, Duration lifetime)
      throws Exception {
    IdentityConfig identity = new IdentityConfig(mode, MeshIssuer.TRUST_DOMAIN, "localhost:" + issuer.port(),
        issuer.tokenFile(id.namespace(), id.serviceAccount()).toString(), issuer.bundle().toString(), lifetime);
    return new MeshConfig(config.service(), config.namespace(), config.inbound(), config.outbound(), config.tracing(),
        config.admin(), config.drain(), config.gateway(), config.accessLog(), config.budgets(), config.overload(),
        identity);
  }

  private Sidecar started(MeshConfig config) throws Exception {
    Sidecar sidecar = closeLater(Sidecar.start(config, "127.0.0.1"));
    sidecar.identity().orElseThrow().ready().get(BOUND.toSeconds(), TimeUnit.SECONDS);
    return sidecar;
  }

  private void announce(Sidecar server, String identity) {
    endpoints.update(new ServiceKey("task-service", NAMESPACE), List.of(endpoint(server.inboundPort(), identity)));
  }

  private static Endpoint endpoint(int port, String identity) {
    return Endpoint.newBuilder().setAddress("127.0.0.1").setPort(port).setReady(true).setIdentity(identity).build();
  }

  private static TaskServer app() {
    return TaskServer.start(TaskServerOptions.defaults().withPort(0).withBindAddress("127.0.0.1")
        .withDatabaseUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1"));
  }

  private static BigInteger serial(Sidecar sidecar) {
    return sidecar.identity().orElseThrow().contexts().current().orElseThrow().certificate().leaf().getSerialNumber();
  }

  /** The leaf the server at {@code port} presents to a new mTLS connection from {@code client}. */
  private static X509Certificate handshake(WorkloadIdentity client, int port) throws Exception {
    try (NettyResources netty = new NettyResources(1)) {
      SslHandler[] tls = new SslHandler[1];
      Channel connection = new Bootstrap().group(netty.workers()).channel(netty.channelType())
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              tls[0] = client.contexts().current().orElseThrow().client().newHandler(ch.alloc(), "127.0.0.1", port);
              ch.pipeline().addLast(tls[0]);
            }
          })
          .connect("127.0.0.1", port).syncUninterruptibly().channel();
      try {
        assertThat(tls[0].handshakeFuture().awaitUninterruptibly(20, TimeUnit.SECONDS)).isTrue();
        assertThat(tls[0].handshakeFuture().isSuccess()).as("%s", tls[0].handshakeFuture().cause()).isTrue();
        return (X509Certificate) tls[0].engine().getSession().getPeerCertificates()[0];
      } finally {
        connection.close().syncUninterruptibly();
      }
    }
  }

  private List<String> inboundLines() {
    List<String> lines = new ArrayList<>();
    for (ILoggingEvent event : List.copyOf(accessLines.list)) {
      if (event.getFormattedMessage().startsWith("direction=inbound")) {
        lines.add(event.getFormattedMessage());
      }
    }
    return lines;
  }

  /** The sum of the samples of a metric (by the start of its line) on the sidecar's admin /metrics. */
  private static double metric(Sidecar sidecar, String prefix) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.adminPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    double sum = 0;
    Matcher sample = Pattern.compile("(?m)^(\\S+) (\\S+)$").matcher(response.body());
    while (sample.find()) {
      if (sample.group(1).startsWith(prefix)) {
        sum += Double.parseDouble(sample.group(2));
      }
    }
    return sum;
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    started.add(resource);
    return resource;
  }
}
